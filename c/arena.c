/* arena.c: validation and release of payload arena positions (see arena.h). */
#include "arena.h"

void bs_arena_init(struct arena *a, char *data, struct bootstrap_arena_ctl *ctl, __u64 *consumed,
		unsigned int ncpu, __u64 region)
{
	a->data = data;
	a->ctl = ctl;
	a->consumed = consumed;
	a->ncpu = ncpu;
	a->region = region;
	a->stride = bs_arena_stride(region);
}

bool bs_arena_span_ok(const struct arena *a, const struct bootstrap_header *h)
{
	__u64 released;

	if (h->cpu >= a->ncpu || h->arena_end < h->arena_start)
		return false;
	released = a->ctl[h->cpu].released;
	return h->arena_start >= released && h->arena_end - released <= a->region;
}

static void release(struct arena *a, unsigned int cpu)
{
	/* Release order: our reads of the payload happen before the kernel may reuse it. */
	if (a->consumed[cpu] > a->ctl[cpu].released)
		__atomic_store_n(&a->ctl[cpu].released, a->consumed[cpu], __ATOMIC_RELEASE);
}

void bs_arena_consumed(struct arena *a, unsigned int cpu, __u64 pos)
{
	if (pos <= a->consumed[cpu])
		return;
	a->consumed[cpu] = pos;
	if (pos - a->ctl[cpu].released >= a->region / 16)
		release(a, cpu);
}

void bs_arena_release_all(struct arena *a)
{
	for (unsigned int cpu = 0; cpu < a->ncpu; cpu++)
		release(a, cpu);
}
