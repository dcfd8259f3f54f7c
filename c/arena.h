/* arena.h: the user-space view of the payload arena (internal to the library).
 *
 * The arena is one mmapped BPF array: element c is CPU c's region (a power of two)
 * followed by slack, so every variable field is contiguous at region + (pos & mask).
 * The reader resolves an event's fields in place and releases each CPU's region across
 * the spans of the events it has finished with, which lets the kernel reuse those bytes.
 * Spans may reach it out of order (an event reserves its ring record and its arena span
 * in two steps, and another handler may run in between: bpf/record.bpf.h), so release
 * stops at the first span not yet handed over; spans past it are remembered in a bitmap
 * of BOOTSTRAP_ARENA_ALIGN-byte granules until the gap before them is filled. */
#ifndef BOOTSTRAP_ARENA_H
#define BOOTSTRAP_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "bootstrap_protocol.h"

struct arena {
	char *data;                       /* element 0; element c at data + c * stride */
	struct bootstrap_arena_ctl *ctl;  /* one per CPU */
	__u64 *consumed;                  /* per CPU: all spans below read, not yet all released */
	__u64 *done;                      /* per CPU, bs_arena_done_words(): spans read past consumed */
	size_t stride;                    /* bytes per element: region + slack */
	__u64 region;                     /* bytes per CPU region, a power of two */
	unsigned int ncpu;
};

/* Bytes of one arena element for a region size (what the BPF array's value_size is). */
static inline size_t bs_arena_stride(__u64 region)
{
	return region + BOOTSTRAP_ARENA_SLACK;
}

/* 64-bit words of one CPU's bitmap of spans read out of order: a bit per granule. */
static inline size_t bs_arena_done_words(__u64 region)
{
	return (region / BOOTSTRAP_ARENA_ALIGN + 63) / 64;
}

/* Sets up a view over already-mapped memory (tests use plain buffers); consumed has
 * room for ncpu positions, done for ncpu * bs_arena_done_words(region) zeroed words. */
void bs_arena_init(struct arena *a, char *data, struct bootstrap_arena_ctl *ctl, __u64 *consumed,
		__u64 *done, unsigned int ncpu, __u64 region);

enum bs_span {
	BS_SPAN_OK,     /* one the kernel could have written without overwriting unreleased bytes */
	BS_SPAN_STALE,  /* starts before what was released: its bytes may have been reused */
	BS_SPAN_BAD,    /* no event spans this: inverted, longer than the region, or ending
			   past released + region, where the kernel never writes */
};

/* Where the header's payload span (on CPU h->cpu < ncpu) stands against this CPU's
 * region. */
enum bs_span bs_arena_span(const struct arena *a, const struct bootstrap_header *h);

/* The bytes at arena position pos of CPU cpu (valid until released). */
static inline const char *bs_arena_at(const struct arena *a, unsigned int cpu, __u64 pos)
{
	return a->data + (size_t)cpu * a->stride + (pos & (a->region - 1));
}

/* Marks the span [start, end) of CPU cpu's region as read. The kernel may reuse it once
 * it and every span before it were read and released: at once when a sixteenth of the
 * region is pending, else at bs_arena_release_all(). Each release writes a cache line
 * the producing CPU reads, so it is not done per event.
 * A release never goes past the kernel's head, whatever span a record claimed. */
void bs_arena_consumed(struct arena *a, unsigned int cpu, __u64 start, __u64 end);
void bs_arena_release_all(struct arena *a);

#endif
