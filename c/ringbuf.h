/* ringbuf.h: a reader of one BPF ring buffer map (internal to the library).
 *
 * It does what libbpf's ring_buffer does, with one difference that matters at millions
 * of events per second: the consumer position, which every producer reads on each
 * reserve, is published once per batch of records instead of after each one, so the
 * cache line does not bounce between the consumer's CPU and the producers'. */
#ifndef BOOTSTRAP_RINGBUF_H
#define BOOTSTRAP_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

struct ringbuf {
	unsigned long *consumer_pos;        /* shared with the kernel, written here */
	const unsigned long *producer_pos;  /* written by the kernel */
	const char *data;                   /* mapped twice in a row: records never wrap */
	size_t size;                        /* a power of two */
	size_t page;
	size_t publish_every;               /* bytes consumed between position updates */
};

/* Returns 0 or a negative errno. */
int bs_ringbuf_map(struct ringbuf *r, int map_fd, size_t size);
void bs_ringbuf_unmap(struct ringbuf *r);

/* Calls fn for every committed record until the ring is empty or fn returns non-zero
 * (that record counts as consumed). Returns the number of records handed to fn. */
long bs_ringbuf_consume(struct ringbuf *r, int (*fn)(void *ctx, void *data, size_t size), void *ctx);

#endif
