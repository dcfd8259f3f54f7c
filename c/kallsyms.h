/* kallsyms.h: the one reader of /proc/kallsyms (internal to the library), for the
 * kprobe target check (kind_kfunc.c) and the kernel symbolizer (symbolize.c). */
#ifndef BOOTSTRAP_KALLSYMS_H
#define BOOTSTRAP_KALLSYMS_H

#include <stdint.h>

/* One line: "ffffffff81000000 T _stext" or "... t fn\t[module]". */
struct bs_ksym {
	uint64_t addr;       /* 0 when the kernel hides addresses (kptr_restrict, no CAP_SYSLOG) */
	char type;           /* nm's letter: 't'/'T' text, 'w'/'W' weak, ... */
	const char *name;
	const char *module;  /* "[ext4]" for a module's, NULL for the kernel's own */
};

#define BS_KALLSYMS "/proc/kallsyms"

/* Calls fn for each symbol of the file at path (BS_KALLSYMS; another only in tests)
 * whose type letter is in `types` ("tT"), until fn returns non-zero; the strings are
 * valid during the call. Lines are read into a fixed buffer: one too long for it (a
 * kernel's names are at most 511 bytes) is passed over whole. Returns what fn returned,
 * 0 at the end of the file, or -errno when it cannot be opened. */
int bs_kallsyms_each(const char *path, const char *types, int (*fn)(void *ctx, const struct bs_ksym *sym),
		     void *ctx);

#endif
