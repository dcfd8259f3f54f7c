/* follow.bpf.h: keeps bs_traced_tgids current when the pid filter follows children.
 *
 * Loaded only with a pid filter. A process forked by a traced process is added before
 * it first runs (the fork tracepoint fires before the child is woken), so none of its
 * events is missed; a process is removed when its task is freed, after its exit event.
 * tp_btf programs need no tracefs and see the task structs directly. */
#ifndef BOOTSTRAP_FOLLOW_BPF_H
#define BOOTSTRAP_FOLLOW_BPF_H

#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

const volatile __u32 bs_follow_children = 0;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(track_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;

	if (!bs_follow_children || ptgid == ctgid || !bpf_map_lookup_elem(&bs_traced_tgids, &ptgid))
		return 0;
	bpf_map_update_elem(&bs_traced_tgids, &ctgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(track_free, struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if ((__u32)task->pid == tgid)
		bpf_map_delete_elem(&bs_traced_tgids, &tgid);
	return 0;
}

#endif
