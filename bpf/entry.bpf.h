/* entry.bpf.h: a return point's view of its own call's entry.
 *
 * The generated entry program stashes the arguments a return event reads (and the time)
 * in task storage, one map per such event (freed with the task; ~12 ns a lookup); the
 * return handler takes them here. A return must see its own call's entry or none, never
 * another call's, so each entry is tagged with what identifies its call, and a task's
 * calls in progress are kept as a small stack, outermost first:
 *
 *   - A function's call is identified by the stack pointer at its entry (the address
 *     of its return address): the return computes the same value from its own stack
 *     pointer (bs_entry_sp_at_return). Frames in progress nest, so the entries of the
 *     calls in progress have strictly decreasing stack pointers (stacks grow down).
 *   - An entry first drops every entry at or below its own stack pointer: those calls
 *     are over without their return having taken them (left by longjmp, their return
 *     filtered out or never run), and one at the same address is an earlier call of
 *     that frame. It does so even when its own event is filtered out, so that such a
 *     stale entry cannot stand in for this call's at its return. Then it pushes its
 *     own, unless the stack is full: the outermost calls keep their entries, a deeper
 *     one returns without.
 *   - A return drops the entries below its own (calls left by longjmp below it) and
 *     takes the top one if it is its own call's; else its entry fields are lost and
 *     counted (entry_missed): tracing started mid-call, its entry was filtered out, or
 *     it was too deep.
 *   - A syscall's identity is a constant and its stack one entry deep: a task is in one
 *     syscall at a time, and every sys_enter replaces what an earlier one left.
 *
 * What this cannot see: a return whose entry program the kernel skipped (a kprobe or
 * tracepoint program on a CPU already running one, counted in recursion_misses) takes
 * an entry left at the same stack address by an earlier call whose return was also
 * missed. Uprobe programs are never skipped that way. */
#ifndef BOOTSTRAP_ENTRY_BPF_H
#define BOOTSTRAP_ENTRY_BPF_H

#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "record.bpf.h"

/* Every stashed entry starts with this; the event's arguments follow. */
struct bs_entry_call {
	__u64 sp; /* identifies the call: the stack pointer at its entry */
	__u64 ts; /* bpf_ktime_get_ns() at the entry */
};

/* A task's entries of one event: this, then `depth` slots in use of the event's
 * struct bs_entry__*, outermost first. */
struct bs_entry_stack {
	__u32 depth;
	__u32 pad;
};

/* At a return, the stack pointer the call had at its entry: x86-64's call pushes the
 * return address, which ret has popped. */
#if defined(__TARGET_ARCH_x86)
#define BS_RETURN_ADDRESS_BYTES 8
#else
#error "the stack pointer at a function's return is only known for x86-64 here"
#endif
#define bs_entry_sp_at_return(ctx) (PT_REGS_SP(ctx) - BS_RETURN_ADDRESS_BYTES)

/* Slot i of the n after st, or NULL past them. The barrier keeps the compiler from
 * turning the bound check into a loop's running pointer, which the verifier could not
 * bound. */
static __always_inline struct bs_entry_call *bs_entry_slot(struct bs_entry_stack *st, __u32 size, __u32 n, __u32 i)
{
	barrier_var(i);
	if (i >= n)
		return NULL;
	return (void *)((char *)(st + 1) + i * size);
}

/* The depth left once the entries below sp (and at sp too, with at_sp) are dropped. */
static __always_inline __u32 bs_entry_unwind(struct bs_entry_stack *st, __u32 size, __u32 n, __u64 sp, bool at_sp)
{
	__u32 depth = st->depth;

	if (depth > n) /* never stored */
		depth = 0;
	for (__u32 i = 0; i < n && depth; i++) {
		struct bs_entry_call *top = bs_entry_slot(st, size, n, depth - 1);

		if (!top || top->sp > sp || (top->sp == sp && !at_sp))
			break;
		depth--;
	}
	return depth;
}

/* At the entry of the call sp: the slot to fill with its arguments (sp and time set),
 * or NULL when the event is not wanted, the stack is full or the storage could not be
 * made. Entries of calls over are dropped either way. */
static __always_inline void *bs_entry_push(void *map, __u32 size, __u32 n, __u64 sp, bool wanted)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bs_entry_stack *st;
	struct bs_entry_call *call = NULL;
	__u32 depth;

	if (wanted)
		st = bpf_task_storage_get(map, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	else
		st = bpf_task_storage_get(map, task, 0, 0);
	if (!st)
		return NULL;
	depth = bs_entry_unwind(st, size, n, sp, true);
	if (wanted)
		call = bs_entry_slot(st, size, n, depth);
	if (call) {
		call->sp = sp;
		call->ts = bpf_ktime_get_ns();
		depth++;
	}
	st->depth = depth;
	return call;
}

/* At the return of the call sp: its entry, taken off the stack (the slot stays intact
 * until the task's next entry, after this handler), or NULL, counted: then the entry
 * fields are lost. */
static __always_inline void *bs_entry_pop(struct bs_emit *e, void *map, __u32 size, __u32 n, __u64 sp,
					  struct task_struct *task)
{
	struct bs_entry_stack *st = bpf_task_storage_get(map, task, 0, 0);
	struct bs_entry_call *call = NULL;
	__u32 depth;

	if (st) {
		depth = bs_entry_unwind(st, size, n, sp, false);
		if (depth)
			call = bs_entry_slot(st, size, n, depth - 1);
		if (call && call->sp == sp)
			depth--;
		else
			call = NULL;
		st->depth = depth;
	}
	if (!call)
		bs_count(&e->cnt->entry_missed, 1);
	return call;
}

#endif
