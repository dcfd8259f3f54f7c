/* minidebug.h: the function symbols of a file's MiniDebugInfo (.gnu_debugdata), read
 * without trusting the file's author (internal to the library). */
#ifndef BOOTSTRAP_MINIDEBUG_H
#define BOOTSTRAP_MINIDEBUG_H

#include <gelf.h>
#include <stdint.h>

#include "symfile.h"

/* The most a stream may decompress to, and the memory its decoder may use. */
#define BS_MINIDEBUG_MAX_OUT (64u << 20)
#define BS_MINIDEBUG_DECODER_MEM (32u << 20)

struct bs_minidebug {
	struct bs_func *funcs;  /* at their ELF addresses; names in `names` */
	size_t n_funcs;
	char *names;
	size_t held;            /* the bytes funcs and names hold */
};

/* The functions named in the MiniDebugInfo of the ELF file open as fd, whose section
 * headers and section names elf reads, decompressed before deadline_ns
 * (CLOCK_MONOTONIC): 0 (none when the file has no such section, or has a .symtab of its
 * own), or a negative errno when the stream is given up: -EFBIG (it decompresses past
 * BS_MINIDEBUG_MAX_OUT), -ENOMEM (its decoder needs more than
 * BS_MINIDEBUG_DECODER_MEM, or we do), -ETIMEDOUT, -EBADMSG (not an xz stream of an
 * ELF file with a symbol table), or read()'s error. */
int bs_minidebug_read(struct bs_minidebug *md, Elf *elf, int fd, uint64_t deadline_ns);
void bs_minidebug_free(struct bs_minidebug *md);

#endif
