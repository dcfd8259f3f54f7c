/* entry.bpf.h: a return point's view of its entry. The generated entry program stashes
 * the arguments a return event reads (and the time) in task storage, one map per such
 * event; the return handler takes them here. Task storage costs ~12 ns a lookup and is
 * freed with the task. Calls that nest (recursion) share the one slot per task: the
 * innermost entry wins. */
#ifndef BOOTSTRAP_ENTRY_BPF_H
#define BOOTSTRAP_ENTRY_BPF_H

/* The stashed entry of this task, or NULL (tracing started mid-call, or the stash could
 * not be made): then the entry fields are lost, and that is counted. The stash's first
 * member is its timestamp; 0 means already consumed. */
static __always_inline void *bs_entry_take(struct bs_emit *e, void *map, struct task_struct *task)
{
	__u64 *entry = bpf_task_storage_get(map, task, 0, 0);

	if (entry && *entry)
		return entry;
	bs_count(&e->cnt->entry_missed, 1);
	return NULL;
}

#endif
