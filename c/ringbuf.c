/* ringbuf.c: the BPF ring buffer reader (see ringbuf.h). The layout is the kernel's:
 * a consumer page (read-write), then a producer page and the data area mapped twice
 * (read-only); each record starts with an 8-byte header whose length word carries a
 * busy bit (not yet committed) and a discard bit. */
#include <errno.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringbuf.h"

/* Publish the consumer position after this many bytes (at most an eighth of the ring,
 * so producers never wait on it), and at the end of every call. */
#define PUBLISH_EVERY (64u << 10)

int bs_ringbuf_map(struct ringbuf *r, int map_fd, size_t size)
{
	void *cons, *prod;

	r->page = getpagesize();
	r->size = size;
	r->publish_every = size / 8 < PUBLISH_EVERY ? size / 8 : PUBLISH_EVERY;
	cons = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, r->page + 2 * size, PROT_READ, MAP_SHARED, map_fd, r->page);
	if (prod == MAP_FAILED) {
		int err = -errno;

		munmap(cons, r->page);
		return err;
	}
	r->consumer_pos = cons;
	r->producer_pos = prod;
	r->data = (const char *)prod + r->page;
	return 0;
}

void bs_ringbuf_unmap(struct ringbuf *r)
{
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->page + 2 * r->size);
	r->consumer_pos = NULL;
	r->producer_pos = NULL;
}

long bs_ringbuf_consume(struct ringbuf *r, int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	unsigned long cons = *r->consumer_pos, published = cons, prod;
	long n = 0;
	int stop = 0;

	while (!stop && cons < (prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE))) {
		while (!stop && cons < prod) {
			const char *rec = r->data + (cons & (r->size - 1));
			__u32 len = __atomic_load_n((const __u32 *)rec, __ATOMIC_ACQUIRE);

			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out; /* reserved, not committed yet: the next call gets it */
			cons += ((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				stop = fn(ctx, (void *)(rec + BPF_RINGBUF_HDR_SZ), len);
				n++;
			}
			if (cons - published >= r->publish_every) {
				__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
				published = cons;
			}
		}
	}
out:
	__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return n;
}
