/* auxv.bpf.h: the auxv.AT_* sources: an entry of the current process's auxiliary
 * vector, from the kernel's copy of it (mm->saved_auxv, written by the exec that made
 * the image). AT_EXECFN there is the path as the exec was asked for, on the new stack:
 * what an execve completed at its exit reads in place of its argument (retry.bpf.h). */
#ifndef BOOTSTRAP_AUXV_BPF_H
#define BOOTSTRAP_AUXV_BPF_H

#include <bpf/bpf_core_read.h>

/* Pairs of saved_auxv in vmlinux.h (AT_VECTOR_SIZE / 2); the running kernel's own size
 * (CO-RE) bounds the walk too, as AT_VECTOR_SIZE differs between kernels. */
#define BS_AUXV_PAIRS (sizeof(((struct mm_struct *)0)->saved_auxv) / (2 * sizeof(unsigned long)))

/* The value of entry `type` (AT_*), or 0 when the vector has none (or no mm: a kernel
 * thread). The vector ends at AT_NULL (0). */
static __always_inline __u64 bs_auxv(struct task_struct *task, __u64 type)
{
	struct mm_struct *mm = task->mm;
	__u32 pairs = bpf_core_field_size(mm->saved_auxv) / (2 * sizeof(unsigned long));
	unsigned long pair[2];

	for (__u32 i = 0; i < BS_AUXV_PAIRS && i < pairs; i++) {
		if (bpf_probe_read_kernel(pair, sizeof(pair), &mm->saved_auxv[2 * i]) || !pair[0])
			return 0;
		if (pair[0] == type)
			return pair[1];
	}
	return 0;
}

#endif
