/* symfile.h: a file some process maps, read for the symbolizer without trusting the
 * process or the file's owner (internal to the library). */
#ifndef BOOTSTRAP_SYMFILE_H
#define BOOTSTRAP_SYMFILE_H

#include <elfutils/libdwfl.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest mapped file read: its bytes are kept while it is cached. */
#define BS_SYMFILE_MAX_BYTES (256u << 20)

struct bs_mapped {          /* one line of /proc/PID/maps */
	uint64_t start, end, off;
	dev_t dev;
	ino_t ino;
	char *path;             /* NULL for an anonymous one (JIT) */
};

struct bs_load {            /* a PT_LOAD segment */
	uint64_t off, filesz, vaddr;
};

struct bs_symfile {
	char *image;            /* the file's bytes, read once: libelf never maps the file,
				   which its owner could truncate under it (SIGBUS) */
	size_t size;
	const char *debug_root; /* separate debuginfo: DEBUG_ROOT/.build-id/xx/yyyy.debug */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Addr bias;
	struct bs_load *loads;
	size_t n_loads;
};

/* Reads mapping m of process pid into f and reports it to libdwfl as name: 0, or a negative
 * errno when the file is given up (not a regular file, not the mapping's inode, too
 * large, on a FUSE mount, not ELF). f->debug_root is set by the caller. */
int bs_symfile_open(struct bs_symfile *f, pid_t pid, const struct bs_mapped *m, const char *name);
void bs_symfile_close(struct bs_symfile *f);

#endif
