/* retry.bpf.h: a syscall entry whose user-memory reads faulted is completed at the exit.
 *
 * BPF cannot take page faults, so a string in a page the process has not touched yet
 * (the first path a new process opens) reads as -EFAULT at sys_enter. The kernel faults
 * that page in during the syscall, so at sys_exit the same read succeeds. An entry that
 * faulted is therefore not sent: its record is discarded, its six arguments and entry
 * time are kept per task (a task is in one syscall at a time), and the exit program of
 * the same syscall fills and sends the event with the entry's timestamp, marking the
 * fields it read again (reread_mask): another thread may have changed that memory
 * between the entry and the exit. If the syscall replaced the address space (a
 * successful execve), the memory the arguments pointed into is gone: the fields that say
 * where the new image keeps their value (after_exec in events.toml: the argument strings
 * the kernel copied to the new stack, the path as AT_EXECFN) are read there, the others
 * are lost and counted as read faults. */
#ifndef BOOTSTRAP_RETRY_BPF_H
#define BOOTSTRAP_RETRY_BPF_H

#include "maps.bpf.h"
#include "record.bpf.h"

struct bs_retry {
	__u64 timestamp_ns; /* the entry's header timestamp */
	__u64 mm;           /* the address space the arguments point into */
	__u64 args[6];
	__u32 index;        /* event index + 1; 0: nothing held */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bs_retry);
} bs_retry SEC(".maps");

/* At the entry: when a read faulted, hold the event for the exit. True when held (the
 * ring record is discarded); false sends it as it is, its faults counted. */
static __always_inline bool bs_retry_stash(struct bs_emit *e, struct task_struct *task, __u32 index,
					   const __u64 *args)
{
	struct bs_retry *st;

	if (!e->faults || index >= BOOTSTRAP_N_EVENTS || !bs_retry_enabled[index])
		return false;
	st = bpf_task_storage_get(&bs_retry, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return false;
	st->timestamp_ns = e->hdr->timestamp_ns;
	st->mm = (__u64)task->mm;
	for (int i = 0; i < 6; i++)
		st->args[i] = args[i];
	st->index = index + 1;
	bs_discard(e);
	return true;
}

/* At the exit: the held entry of event `index`, released, or NULL. */
static __always_inline struct bs_retry *bs_retry_take(struct task_struct *task, __u32 index)
{
	struct bs_retry *st = bpf_task_storage_get(&bs_retry, task, 0, 0);

	if (!st || st->index != index + 1)
		return NULL;
	st->index = 0;
	return st;
}

/* The retried event carries the entry's time; user reads are redone only in the same
 * address space. */
static __always_inline void bs_retry_begin(struct bs_emit *e, const struct bs_retry *st, struct task_struct *task)
{
	e->hdr->timestamp_ns = st->timestamp_ns;
	e->no_user = st->mm != (__u64)task->mm;
	bs_count(&e->cnt->fault_retries, 1);
}

/* Whether a successful exec replaced the address space since the entry. Then the
 * after_exec fields are read in the new image, which is the current memory, and no
 * field reads through the arguments (typegen wants after_exec on all that would). An
 * exec that failed after replacing it (the task is about to die) reads nothing. */
static __always_inline bool bs_retry_new_image(struct bs_emit *e, const struct syscall_trace_exit *ctx)
{
	if (!e->no_user || ctx->ret)
		return false;
	e->no_user = false;
	return true;
}

#endif
