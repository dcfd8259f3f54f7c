/* aggregate.bpf.h: counting in the kernel. The generated handlers of events with an
 * `aggregate` list update one per-CPU hash per aggregation (aggregate.gen.bpf.h) through
 * bs_agg_slot().
 *
 * Per-CPU hashes: an update is an atomic add to this CPU's copy, no cache line shared
 * with another CPU (user space adds the CPUs up when it reads); atomic because handlers
 * of one event may preempt one another on a CPU (see record.bpf.h). Maps are not
 * preallocated: memory follows the keys actually seen, up to the bound the loader sets
 * (aggregate_entries); a key beyond it is counted, never dropped silently
 * (aggregate_full). */
#ifndef BOOTSTRAP_AGGREGATE_BPF_H
#define BOOTSTRAP_AGGREGATE_BPF_H

#include "maps.bpf.h"

/* The value a new key starts from: as large as the largest value (count, a sum per
 * field, the histogram). Read-only data, so it costs no stack. */
static const volatile __u64 bs_agg_zero[1 + BOOTSTRAP_MAX_FIELDS + BOOTSTRAP_HIST_BUCKETS];

/* This CPU's value of key in map, created (zeroed) on first use; NULL, counted, when
 * the map is full. */
static __always_inline __u64 *bs_agg_slot(void *map, const void *key, struct bootstrap_kcounters *cnt)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	/* BPF_NOEXIST: another CPU may insert the key meanwhile; the lookup finds it then. */
	bpf_map_update_elem(map, key, (const void *)bs_agg_zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		bs_count(&cnt->aggregate_full, 1);
	return v;
}

/* The log2 bucket of v (BOOTSTRAP_HIST_BUCKETS in bootstrap_protocol.h says which). */
static __always_inline __u32 bs_hist_bucket(__u64 v, bool is_signed)
{
	__u32 b = 2;

	if (is_signed && (__s64)v < 0)
		return 0;
	if (!v)
		return 1;
	if (v >> 32) {
		v >>= 32;
		b += 32;
	}
	if (v >> 16) {
		v >>= 16;
		b += 16;
	}
	if (v >> 8) {
		v >>= 8;
		b += 8;
	}
	if (v >> 4) {
		v >>= 4;
		b += 4;
	}
	if (v >> 2) {
		v >>= 2;
		b += 2;
	}
	return b + (v >> 1);
}

#endif
