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

enum bs_span bs_arena_span(const struct arena *a, const struct bootstrap_header *h)
{
	__u64 released = a->ctl[h->cpu].released;

	if (h->arena_end < h->arena_start || h->arena_end - h->arena_start > a->region)
		return BS_SPAN_BAD;
	if (h->arena_start < released)
		return BS_SPAN_STALE;
	return h->arena_end - released <= a->region ? BS_SPAN_OK : BS_SPAN_BAD;
}

/* Publishes what was read, up to the kernel's head only: a record's end is checked
 * against the region, which a corrupt one that ends past what the kernel wrote can
 * pass, and a released position past the head would make the kernel refuse every later
 * field on this CPU (emit.bpf.h reads it as a confused consumer). */
static void release(struct arena *a, unsigned int cpu)
{
	__u64 head = __atomic_load_n(&a->ctl[cpu].head, __ATOMIC_RELAXED);
	__u64 pos = a->consumed[cpu] < head ? a->consumed[cpu] : head;

	/* Release order: our reads of the payload happen before the kernel may reuse it. */
	if (pos > a->ctl[cpu].released)
		__atomic_store_n(&a->ctl[cpu].released, pos, __ATOMIC_RELEASE);
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
