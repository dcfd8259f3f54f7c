/* arena.c: validation and release of payload arena positions (see arena.h). */
#include "arena.h"

void arena_init(struct arena *a, char *data, struct bootstrap_arena_ctl *ctl, unsigned int ncpu,
		__u64 region)
{
	a->data = data;
	a->ctl = ctl;
	a->ncpu = ncpu;
	a->region = region;
	a->stride = arena_stride(region);
}

bool arena_span_ok(const struct arena *a, const struct bootstrap_header *h)
{
	__u64 released;

	if (h->cpu >= a->ncpu || h->arena_end < h->arena_start)
		return false;
	released = a->ctl[h->cpu].released;
	return h->arena_start >= released && h->arena_end - released <= a->region;
}

void arena_release(struct arena *a, unsigned int cpu, __u64 pos)
{
	__u64 *released = &a->ctl[cpu].released;

	/* Release order: our reads of the payload happen before the kernel may reuse it. */
	if (pos > *released)
		__atomic_store_n(released, pos, __ATOMIC_RELEASE);
}
