/* unwind.h: one process's user stacks unwound from the unwind tables of its files
 * (internal to the library; the symbolizer owns one per process it unwinds). */
#ifndef BOOTSTRAP_UNWIND_H
#define BOOTSTRAP_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bootstrap_protocol.h"
#include "symfile.h"

struct bs_unwinder;

struct bs_unwind_module {
	const struct bs_symfile *sf;  /* the image, read (it outlives the unwinder) */
	const char *name;
	uint64_t bias;                /* where it is mapped less its ELF addresses */
};

/* The image mapped at addr in the process (a file, or the [vdso] when it is the
 * tracer's own): false when none is known or read (an anonymous mapping, a [vdso] of
 * another image, a file given up or deferred). */
typedef bool (*bs_unwind_find_fn)(void *ctx, uint64_t addr, struct bs_unwind_module *out);

/* What stopped an unwinding. */
enum bs_unwind_end {
	BS_UNWIND_COMPLETE,  /* the outermost frame (its return address is undefined) */
	BS_UNWIND_MAX,       /* max frames taken: more may follow */
	BS_UNWIND_PARTIAL,   /* stopped early: no module or unwind data for a frame, the
				copy ended, or a frame did not move up the stack */
};

/* Unwinds thread tid of process pid from regs over the stack bytes copied from regs->sp
 * (len of them): at most max frames into frames, innermost first (the first is regs->ip,
 * the others return addresses). *u is the process's unwinder, made on first use. */
size_t bs_unwind(struct bs_unwinder **u, pid_t pid, pid_t tid, const struct bootstrap_ustack_regs *regs,
		 const char *stack, size_t len, bs_unwind_find_fn find, void *ctx, uint64_t *frames, size_t max,
		 enum bs_unwind_end *end);
void bs_unwinder_free(struct bs_unwinder *u);

#endif
