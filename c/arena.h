/* arena.h: the user-space view of the payload arena (internal to the library).
 *
 * The arena is one mmapped BPF array: element c is CPU c's region (a power of two)
 * followed by slack, so every variable field is contiguous at region + (pos & mask).
 * The reader resolves an event's fields in place and releases each CPU's region up to
 * the end of the event it has finished with, which lets the kernel reuse those bytes. */
#ifndef BOOTSTRAP_ARENA_H
#define BOOTSTRAP_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "bootstrap_protocol.h"

struct arena {
	char *data;                       /* element 0; element c at data + c * stride */
	struct bootstrap_arena_ctl *ctl;  /* one per CPU */
	__u64 *consumed;                  /* per CPU: read up to here, not yet all released */
	size_t stride;                    /* bytes per element: region + slack */
	__u64 region;                     /* bytes per CPU region, a power of two */
	unsigned int ncpu;
};

/* Bytes of one arena element for a region size (what the BPF array's value_size is). */
static inline size_t bs_arena_stride(__u64 region)
{
	return region + BOOTSTRAP_ARENA_SLACK;
}

/* Sets up a view over already-mapped memory (tests use plain buffers); consumed has
 * room for ncpu positions. */
void bs_arena_init(struct arena *a, char *data, struct bootstrap_arena_ctl *ctl, __u64 *consumed,
		unsigned int ncpu, __u64 region);

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

/* Marks CPU cpu's region as read up to pos. The kernel may reuse it once released:
 * at once when a sixteenth of the region is pending, else at bs_arena_release_all(). Each
 * release writes a cache line the producing CPU reads, so it is not done per event.
 * A release never goes past the kernel's head, whatever pos a record claimed. */
void bs_arena_consumed(struct arena *a, unsigned int cpu, __u64 pos);
void bs_arena_release_all(struct arena *a);

#endif
