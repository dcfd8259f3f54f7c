/* arena.c: validation and release of payload arena positions (see arena.h). */
#include "arena.h"

void bs_arena_init(struct arena *a, char *data, struct bootstrap_arena_ctl *ctl, __u64 *consumed,
		__u64 *done, unsigned int ncpu, __u64 region)
{
	a->data = data;
	a->ctl = ctl;
	a->consumed = consumed;
	a->done = done;
	a->ncpu = ncpu;
	a->region = region;
	a->stride = bs_arena_stride(region);
}

enum bs_span bs_arena_span(const struct arena *a, const struct bootstrap_header *h)
{
	__u64 released = a->ctl[h->cpu].released;

	if (h->arena_end < h->arena_start || h->arena_end - h->arena_start > a->region)
		return BS_SPAN_BAD;
	if (h->arena_end == h->arena_start)
		return BS_SPAN_OK; /* holds no arena bytes (none were free): nothing to read or release */
	if (h->arena_start < released)
		return BS_SPAN_STALE;
	return h->arena_end - released <= a->region ? BS_SPAN_OK : BS_SPAN_BAD;
}

/* Publishes what was read, up to the kernel's head only: a record's end is checked
 * against the region, which a corrupt one that ends past what the kernel wrote can
 * pass, and a released position past the head would make the kernel refuse every later
 * field on this CPU (record.bpf.h reads it as a confused consumer). */
static void release(struct arena *a, unsigned int cpu)
{
	__u64 head = __atomic_load_n(&a->ctl[cpu].head, __ATOMIC_RELAXED);
	__u64 pos = a->consumed[cpu] < head ? a->consumed[cpu] : head;

	/* Release order: our reads of the payload happen before the kernel may reuse it. */
	if (pos > a->ctl[cpu].released)
		__atomic_store_n(&a->ctl[cpu].released, pos, __ATOMIC_RELEASE);
}

/* The bit of granule pos in CPU cpu's bitmap: positions a region apart share it, and
 * only one region past consumed is ever pending. */
static __u64 *done_word(struct arena *a, unsigned int cpu, __u64 pos, __u64 *bit)
{
	__u64 g = (pos / BOOTSTRAP_ARENA_ALIGN) & (a->region / BOOTSTRAP_ARENA_ALIGN - 1);

	*bit = 1ull << (g % 64);
	return &a->done[cpu * bs_arena_done_words(a->region) + g / 64];
}

void bs_arena_consumed(struct arena *a, unsigned int cpu, __u64 start, __u64 end)
{
	__u64 *pos = &a->consumed[cpu];
	__u64 bit, *w;

	if (end <= start || end <= *pos)
		return;
	if (start > *pos) {
		/* Ahead of a span not read yet: remember it. The kernel's spans are aligned;
		 * another one cannot be told apart from its neighbours, so it is not kept. */
		if ((start | end) % BOOTSTRAP_ARENA_ALIGN)
			return;
		for (__u64 p = start; p < end; p += BOOTSTRAP_ARENA_ALIGN) {
			w = done_word(a, cpu, p, &bit);
			*w |= bit;
		}
		return;
	}
	*pos = end;
	/* On across the spans already read after this one. */
	while (*pos % BOOTSTRAP_ARENA_ALIGN == 0 && (*(w = done_word(a, cpu, *pos, &bit)) & bit)) {
		*w &= ~bit;
		*pos += BOOTSTRAP_ARENA_ALIGN;
	}
	if (*pos - a->ctl[cpu].released >= a->region / 16)
		release(a, cpu);
}

void bs_arena_release_all(struct arena *a)
{
	for (unsigned int cpu = 0; cpu < a->ncpu; cpu++)
		release(a, cpu);
}
