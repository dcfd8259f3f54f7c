/* compat.bpf.h: what Debian 12's libbpf headers (1.1) lack and the generated handlers
 * use: the sixth argument register of a probed function. */
#ifndef BOOTSTRAP_COMPAT_BPF_H
#define BOOTSTRAP_COMPAT_BPF_H

#include <bpf/bpf_tracing.h>

#ifndef PT_REGS_PARM6
#if defined(__TARGET_ARCH_x86)
#define PT_REGS_PARM6(x) (__PT_REGS_CAST(x)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define PT_REGS_PARM6(x) (((const struct user_pt_regs *)(x))->regs[5])
#else
#error "PT_REGS_PARM6 is not defined for this architecture"
#endif
#endif

#endif
