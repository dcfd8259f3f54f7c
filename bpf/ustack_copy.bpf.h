/* ustack_copy.bpf.h: a user stack for unwinding in user space (a stack field with
 * unwind = "dwarf"): the interrupted user context's ip, sp and bp, then the top of its
 * stack from sp upward, into the event's arena span. User space walks it with the unwind
 * tables of the mapped files (c/unwind.c), the way perf --call-graph dwarf does: programs
 * built without frame pointers, and leaves that set up no frame, keep their callers.
 *
 * The registers are the task's user pt_regs (bpf_task_pt_regs): where the sample or probe
 * interrupted user mode they are that user context, and where it interrupted the kernel
 * (a system call, a page fault) they are the user context the kernel entered from. The
 * stack's end may be nearer than the bytes asked for: the copy is one read when it can
 * be, else chunks aligned to BOOTSTRAP_USTACK_CHUNK (the stack ends on a page boundary,
 * so on a chunk boundary) up to the first that faults; the field's length says what was
 * copied. */
#ifndef BOOTSTRAP_USTACK_COPY_BPF_H
#define BOOTSTRAP_USTACK_COPY_BPF_H

#include <bpf/bpf_core_read.h>
#include "bootstrap_protocol.h"
#include "record.bpf.h"
#include "fields.bpf.h"

#define BS_PF_KTHREAD 0x00200000  /* include/linux/sched.h: no user context */

/* The user stack from sp: as much of copy bytes as can be read, at dst; returns how many. */
static __always_inline __u32 bs_ustack_read(char *dst, __u64 sp, __u32 copy)
{
	__u32 used = 0, n;

	if (copy > BOOTSTRAP_FIELD_MAX_BYTES)
		return 0;
	if (!bpf_probe_read_user(dst, copy, (const void *)sp))
		return copy;
	/* The first chunk up to the next boundary, then whole ones. */
	n = BOOTSTRAP_USTACK_CHUNK - (sp & (BOOTSTRAP_USTACK_CHUNK - 1));
#pragma clang loop unroll(disable)
	for (int i = 0; i < BOOTSTRAP_FIELD_MAX_BYTES / BOOTSTRAP_USTACK_CHUNK; i++) {
		if (n > copy - used)
			n = copy - used;
		barrier_var(used);
		barrier_var(n);
		if (!n || used > BOOTSTRAP_FIELD_MAX_BYTES || n > BOOTSTRAP_USTACK_CHUNK)
			break;
		if (bpf_probe_read_user(dst + used, n, (const void *)(sp + used)))
			break;
		used += n;
		n = BOOTSTRAP_USTACK_CHUNK;
	}
	return used;
}

/* The saved registers and up to copy bytes of user stack, at an 8-byte aligned position.
 * A kernel thread has no user context: the field is present and empty. */
static __always_inline void bs_var_ustack_copy(struct bs_emit *e, struct bootstrap_var *v, __u32 idx, __u32 copy)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bootstrap_ustack_regs *r;
	struct pt_regs *regs;
	char *dst;

	e->head = (e->head + 7) & ~7ull;
	bs_var_begin(e, v);
	if (!bs_user_ok(e, idx, true) || (task->flags & BS_PF_KTHREAD))
		return;
	dst = bs_arena_dst(e, sizeof(*r) + copy);
	if (!dst) {
		bs_mark_lost(e, idx, 0);
		return;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	r = (struct bootstrap_ustack_regs *)dst;
	r->ip = BPF_CORE_READ(regs, ip);
	r->sp = BPF_CORE_READ(regs, sp);
	r->bp = BPF_CORE_READ(regs, bp);
	v->len = sizeof(*r) + bs_ustack_read(dst + sizeof(*r), r->sp, copy);
	e->head += v->len;
}

#endif
