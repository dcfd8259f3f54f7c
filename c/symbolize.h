/* symbolize.h: the symbolizer's entry point for the library's own stack formatting
 * (internal to the library; bootstrap_symbolize() in bootstrap.h is the public one). */
#ifndef BOOTSTRAP_SYMBOLIZE_H
#define BOOTSTRAP_SYMBOLIZE_H

#include "bootstrap.h"

/* bootstrap_symbolize() of frames [first, first + n) of a longer stack, so that a stack
 * can be resolved in pieces: only frame 0 of the whole stack is an exact address. */
int bs_symbolize(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, const uint64_t *addrs, size_t n,
		 size_t first, struct bootstrap_symbol *out);

/* A new event: what the symbolizer knows of a process may be rechecked from now on
 * (never within one event, whose frames and serializations must agree). */
void bs_symbolizer_next(struct bootstrap_symbolizer *s);

/* Where separate debuginfo is looked up by build-id (DIR/.build-id/xx/yyyy.debug);
 * /usr/lib/debug unless changed (tests). dir must outlive s. */
void bs_symbolizer_debug_root(struct bootstrap_symbolizer *s, const char *dir);

/* The reading ration: at most ns of reading files and maps in every second (a quarter
 * of it unless changed: tests). */
void bs_symbolizer_io_budget(struct bootstrap_symbolizer *s, uint64_t ns);

/* A user stack the kernel copied for unwinding (unwind = "dwarf": the saved registers,
 * then the stack from sp, len bytes in all at raw) of thread tid of process pid, as
 * frames innermost first, at most max: their number. *whole: it reached the outermost
 * frame; else it stopped early or at max (and is counted when it stopped early). */
size_t bs_symbolizer_unwind(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, pid_t tid, const char *raw,
			    size_t len, uint64_t *frames, size_t max, bool *whole);

/* The losses so far. */
struct bs_symbolizer_counts {
	uint64_t files_skipped;   /* mapped files given up, in whole or in part, and
				     [vdso] mappings of another image */
	uint64_t maps_truncated;  /* maps read in part */
	uint64_t deferred;        /* lookups left unresolved: the ration was used up */
	uint64_t unwound;         /* user stacks unwound (unwind = "dwarf") */
	uint64_t unwind_bytes;    /* the registers and stack bytes they came with */
	uint64_t unwind_ns;       /* the time spent unwinding them */
	uint64_t unwind_partial;  /* of them, those unwound only in part */
};
void bs_symbolizer_counts(const struct bootstrap_symbolizer *s, struct bs_symbolizer_counts *out);

#endif
