/* unwind.c: user stacks unwound from unwind tables, with elfutils' libdwfl, over the
 * registers and stack bytes the kernel copied (bpf/ustack_copy.bpf.h), as perf's libdw
 * unwinder does (dwfl_attach_state with memory_read and set_initial_registers).
 *
 * One Dwfl per process, kept by the symbolizer while the process's mappings and files
 * stay as they were: its modules are the files the symbolizer already read (through
 * /proc/PID/map_files, checked, into memory), and its [vdso] when it holds the tracer's
 * own vDSO image (the kernel's, with its .eh_frame), reported where they are mapped as
 * the unwinding reaches them, so each module's unwind tables (.eh_frame through
 * .eh_frame_hdr, .debug_frame) are looked up once per process, not per sample. libdwfl
 * gets its ELF from those bytes and separate debuginfo only by build-id: it opens
 * nothing a process names.
 *
 * The stack bytes are the process's to choose. Memory reads are served from the copy
 * only, within its length; frames are at most max; a frame must sit above the one it
 * returns to (its sp higher), so a crafted stack cannot loop; and a frame in no known
 * module stops the walk rather than let libdwfl guess through frame pointers there. An
 * unwinding that stops before the outermost frame says so (BS_UNWIND_PARTIAL).
 */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "unwind.h"

#define X86_64_RBP 6  /* DWARF register numbers */
#define X86_64_RSP 7

struct bs_unwinder {
	Dwfl *dwfl;
	bool attached;
	bool misplaced;  /* a module libdwfl placed elsewhere than mapped: not unwound */
	/* The sample being unwound. */
	pid_t tid;
	const struct bootstrap_ustack_regs *regs;
	const char *stack;
	size_t len;
	bs_unwind_find_fn find;
	void *ctx;
	uint64_t *frames;
	size_t max, n;
	uint64_t last_sp;
	uint64_t last_at;  /* the code of the last frame: its pc, or a return address less 1 */
	enum bs_unwind_end end;
};

static const Dwfl_Callbacks module_callbacks = {
	.find_elf = bs_symfile_find_elf,
	.find_debuginfo = bs_symfile_find_debuginfo,
};

/* Whether the module holding addr is reported (now, if need be). */
static bool have_module(struct bs_unwinder *u, uint64_t addr)
{
	struct bs_unwind_module m;
	uint64_t low = UINT64_MAX, high = 0;
	Dwfl_Module *mod;
	void **userdata;
	GElf_Addr bias;

	if (dwfl_addrmodule(u->dwfl, addr))
		return true;
	if (!u->find(u->ctx, addr, &m))
		return false;
	for (size_t i = 0; i < m.sf->n_loads; i++) {
		const struct bs_load *l = &m.sf->loads[i];

		if (l->vaddr < low)
			low = l->vaddr;
		if (l->vaddr + l->filesz > high)
			high = l->vaddr + l->filesz;
	}
	if (low >= high)
		return false;
	dwfl_report_begin_add(u->dwfl);
	mod = dwfl_report_module(u->dwfl, m.name, low + m.bias, high + m.bias);
	dwfl_report_end(u->dwfl, NULL, NULL);
	if (!mod)
		return false;
	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = (void *)m.sf;
	/* libdwfl places the ELF by its first segment: it must agree with the mapping, or
	 * every frame in it would be looked up at the wrong place. Such a module stays in
	 * the Dwfl, so nothing of the process is unwound until its mappings change. */
	if (dwfl_module_getelf(mod, &bias) && bias == m.bias && dwfl_addrmodule(u->dwfl, addr) == mod)
		return true;
	u->misplaced = true;
	return false;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	struct bs_unwinder *u = arg;

	(void)dwfl;
	if (*thread_arg)
		return 0;
	*thread_arg = u;
	return u->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	struct bs_unwinder *u = arg;

	(void)dwfl;
	*thread_arg = u;
	return tid == u->tid;
}

/* A word of the copied stack; anything else is unknown. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *out, void *arg)
{
	struct bs_unwinder *u = arg;
	uint64_t at = addr - u->regs->sp;

	(void)dwfl;
	if (addr < u->regs->sp || at > u->len || u->len - at < sizeof(*out))
		return false;
	memcpy(out, u->stack + at, sizeof(*out));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct bs_unwinder *u = arg;
	Dwarf_Word regs[2] = { u->regs->bp, u->regs->sp };  /* rbp, rsp */

	if (!dwfl_thread_state_registers(thread, X86_64_RBP, 2, regs))
		return false;
	dwfl_thread_state_register_pc(thread, u->regs->ip);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct bs_unwinder *u = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, NULL) || dwfl_frame_reg(state, X86_64_RSP, &sp) != 0 ||
	    (u->n && sp <= u->last_sp))
		return DWARF_CB_ABORT;
	u->last_sp = sp;
	u->frames[u->n++] = pc;
	if (u->n == u->max) {
		u->end = BS_UNWIND_MAX;
		return DWARF_CB_ABORT;
	}
	/* The next step needs the unwind tables of the code at pc, reported before libdwfl
	 * unwinds this frame, which asking whether pc is a return address does: else
	 * libdwfl would unwind it by frame pointer, whatever rbp holds (a module the walk
	 * reaches for the first time past the innermost frame). A return address's call is
	 * the byte before it; the innermost frame's code (or one a signal interrupted) is
	 * at pc itself. */
	if (u->misplaced || !have_module(u, u->n > 1 ? pc - 1 : pc) || !dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	u->last_at = activation ? pc : pc - 1;
	return !u->misplaced && have_module(u, u->last_at) ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Whether the last frame is the outermost by its own unwind tables: its return address
 * is undefined there (_start, a thread's start). libdwfl also ends without an error
 * where a return address could not be read (outside the copy), which is no end. */
static bool outermost(struct bs_unwinder *u)
{
	Dwfl_Module *mod = dwfl_addrmodule(u->dwfl, u->last_at);
	Dwarf_CFI *cfis[2];
	Dwarf_Addr bias[2];

	if (!mod)
		return false;
	cfis[0] = dwfl_module_eh_cfi(mod, &bias[0]);
	cfis[1] = dwfl_module_dwarf_cfi(mod, &bias[1]);
	for (int i = 0; i < 2; i++) {
		Dwarf_Op mem[3], *ops;
		Dwarf_Frame *frame;
		size_t nops;
		int ra;
		bool undefined;

		if (!cfis[i] || dwarf_cfi_addrframe(cfis[i], u->last_at - bias[i], &frame) != 0)
			continue;
		ra = dwarf_frame_info(frame, NULL, NULL, NULL);
		/* Undefined: no operations, ops pointing at mem (a null ops is "same value"). */
		undefined = ra >= 0 && dwarf_frame_register(frame, ra, mem, &ops, &nops) == 0 && ops == mem && !nops;
		free(frame);
		return undefined;
	}
	return false;
}

size_t bs_unwind(struct bs_unwinder **up, pid_t pid, pid_t tid, const struct bootstrap_ustack_regs *regs,
		 const char *stack, size_t len, bs_unwind_find_fn find, void *ctx, uint64_t *frames, size_t max,
		 enum bs_unwind_end *end)
{
	struct bs_unwinder *u = *up;

	*end = BS_UNWIND_PARTIAL;
	if (!max)
		return 0;
	frames[0] = regs->ip;
	if (!u) {
		if (!(u = calloc(1, sizeof(*u))))
			return 1;
		if (!(u->dwfl = dwfl_begin(&module_callbacks))) {
			free(u);
			return 1;
		}
		*up = u;
	}
	u->tid = tid;
	u->regs = regs;
	u->stack = stack;
	u->len = len;
	u->find = find;
	u->ctx = ctx;
	u->frames = frames;
	u->max = max;
	u->n = 0;
	u->end = BS_UNWIND_PARTIAL;
	if (u->misplaced || !have_module(u, regs->ip))
		return 1;
	/* Once the first module is in: libdwfl takes the machine from its ELF. */
	if (!u->attached && !(u->attached = dwfl_attach_state(u->dwfl, NULL, pid, &thread_callbacks, u)))
		return 1;
	if (dwfl_getthread_frames(u->dwfl, tid, on_frame, u) == 0 && outermost(u))
		u->end = BS_UNWIND_COMPLETE;
	*end = u->end;
	return u->n ? u->n : 1;
}

void bs_unwinder_free(struct bs_unwinder *u)
{
	if (!u)
		return;
	dwfl_end(u->dwfl);
	free(u);
}
