/* symfile.h: a file some process maps, read for the symbolizer without trusting the
 * process or the file's owner (internal to the library). */
#ifndef BOOTSTRAP_SYMFILE_H
#define BOOTSTRAP_SYMFILE_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
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

struct bs_func {            /* a function symbol, at its address in the module */
	uint64_t addr, size;    /* size 0: up to the next one */
	const char *name;       /* in libdwfl's string table, valid while dwfl lives, or
				   in debugdata_names */
	bool local;             /* STB_LOCAL: a global one at the same address is preferred */
};

struct bs_symfile {
	char *image;            /* the file's size, its symbol tables and notes read in:
				   libelf never maps the file, which its owner could
				   truncate under it (SIGBUS) */
	size_t size;
	size_t held;            /* the bytes read in: the memory it holds */
	const char *debug_root; /* separate debuginfo: DEBUG_ROOT/.build-id/xx/yyyy.debug */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Addr bias;
	struct bs_load *loads;
	size_t n_loads;
	/* Its functions sorted by address: a lookup is a binary search, where libdwfl's
	 * own (dwfl_module_addrinfo) scans every symbol, each frame of each sample. */
	struct bs_func *funcs;
	size_t n_funcs;
	bool debuginfo;         /* libdwfl has a separate debuginfo file of it */
	char *debugdata_names;  /* the names of the functions from MiniDebugInfo */
	bool debugdata_skipped; /* its MiniDebugInfo was given up (past its limits) */
};

/* Reads mapping m of process pid into f and reports it to libdwfl as name: 0, or a negative
 * errno when the file is given up (not a regular file, not the mapping's inode, too
 * large, not read within a second, on a FUSE mount, not ELF). Its MiniDebugInfo may be
 * given up alone (f->debugdata_skipped): .dynsym still names what it has.
 * f->debug_root is set by the caller. */
int bs_symfile_open(struct bs_symfile *f, pid_t pid, const struct bs_mapped *m, const char *name);
/* The same for an ELF image already in memory (malloc'd; f owns it from now on), such
 * as the vdso: MiniDebugInfo is not looked for. */
int bs_symfile_image(struct bs_symfile *f, char *image, size_t size, const char *name);
/* The function at address addr of the module (an ELF address plus f->bias), and addr's
 * offset in it; NULL when none. */
const char *bs_symfile_symbol(const struct bs_symfile *f, uint64_t addr, uint64_t *offset);
void bs_symfile_close(struct bs_symfile *f);
/* libdwfl's callbacks for a module whose userdata is its bs_symfile: the ELF from the
 * bytes read, separate debuginfo by build-id only (never by a name the file carries). */
int bs_symfile_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name,
			Elf **elfp);
int bs_symfile_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			      const char *file_name, const char *debuglink, GElf_Word crc, char **debuginfo_name);

#endif
