/* filter.bpf.h: whether an event of this process is wanted at all: the event is
 * enabled, and the process passes the run-time filters (not the tracer itself, not
 * excluded, in the pid set, of the comm asked for), which user space writes through the
 * mmapped .bss (maps.bpf.h). Read-only here. */
#ifndef BOOTSTRAP_FILTER_BPF_H
#define BOOTSTRAP_FILTER_BPF_H

#include "maps.bpf.h"

static __always_inline bool bs_wanted(__u32 index, __u32 tgid)
{
	if (index >= BOOTSTRAP_N_EVENTS || !bs_enabled[index] || tgid == bs_self_tgid)
		return false;
	if (bs_n_excluded && bpf_map_lookup_elem(&bs_excl_tgids, &tgid))
		return false;
	if (bs_filter_pids && !bpf_map_lookup_elem(&bs_traced_tgids, &tgid))
		return false;
	if (bs_filter_comm) {
		/* Zeroed: older kernels (6.1) copy the comm without padding the rest. */
		char comm[BOOTSTRAP_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (*(__u64 *)&comm[0] != *(volatile __u64 *)&bs_comm_filter[0] ||
		    *(__u64 *)&comm[8] != *(volatile __u64 *)&bs_comm_filter[8])
			return false;
	}
	return true;
}

#endif
