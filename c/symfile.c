/* symfile.c: a file some process maps, read for the symbolizer without trusting the
 * process or the file's owner.
 *
 * The file is opened by the tracer itself, through /proc/PID/map_files (the very file
 * mapped, even when deleted or replaced) or else the mapping's path under
 * /proc/PID/root, never blocking (bs_open_regular), and must be a regular file with the
 * mapping's device and inode. What names its functions and unwinds its stacks is read
 * into memory (so that the owner cannot fault the tracer by truncating a file libelf had
 * mapped), and
 * libdwfl gets it from callbacks of our own: separate debuginfo only by build-id under
 * the system's debug directory, never by a name the file carries (.gnu_debuglink may
 * name a FIFO, /dev/zero or a watchdog device). MiniDebugInfo, whose xz stream
 * decompresses to whatever size its author chose, is never given to libdwfl: when
 * libdwfl has only .dynsym, minidebug.c decompresses it within limits and its functions
 * join the index. A file on a FUSE mount is not read at all: its server, which may be
 * the process being traced, can leave any read blocked forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "minidebug.h"
#include "open_safe.h"
#include "symfile.h"

/* The most of /proc/PID/mountinfo looked at (a process may make many mounts). */
#define MOUNTINFO_MAX_BYTES (4u << 20)
/* A file is read in chunks for at most READ_BUDGET_NS (a slow network file system),
 * so that one file cannot hold the event loop for longer. */
#define READ_CHUNK (1u << 20)
#define READ_BUDGET_NS 1000000000ull

/* Whether device dev is a FUSE mount in pid's mount namespace. */
static bool on_fuse(pid_t pid, dev_t dev)
{
	char path[64], *line = NULL;
	size_t cap = 0, seen = 0;
	bool fuse = false;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	if (!(f = fopen(path, "re")))
		return false;
	/* "36 35 0:52 / /mnt rw,nosuid shared:1 - fuse.sshfs host:/ rw,user_id=0" */
	while (!fuse && seen < MOUNTINFO_MAX_BYTES && (n = getline(&line, &cap, f)) > 0) {
		unsigned int major, minor;
		const char *sep = strstr(line, " - ");

		seen += (size_t)n;
		fuse = sscanf(line, "%*s %*s %u:%u", &major, &minor) == 2 && makedev(major, minor) == dev && sep &&
		       strncmp(sep + 3, "fuse", 4) == 0;
	}
	free(line);
	fclose(f);
	return fuse;
}

/* The mapped file itself, opened read-only: a descriptor, or a negative errno. */
static int open_mapping(pid_t pid, const struct bs_mapped *m, struct stat *st)
{
	char path[PATH_MAX + 64];
	int fd;

	if (!m->path || m->path[0] != '/')
		return -ENOENT;
	if (on_fuse(pid, m->dev))
		return -EREMOTE;
	/* map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE); root/ does not. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start, m->end);
	fd = bs_open_regular(path, st);
	if (fd < 0 && fd != -EINVAL) {
		if ((size_t)snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->path) >= sizeof(path))
			return -ENAMETOOLONG;
		fd = bs_open_regular(path, st);
	}
	if (fd >= 0 && (st->st_dev != m->dev || st->st_ino != m->ino)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

struct reader {
	struct bs_symfile *f;
	int fd;
	uint64_t started;
};

/* Bytes [off, off + len) of the file into the image, clipped to the file; -ETIMEDOUT
 * once READ_BUDGET_NS has passed since the first read. A file truncated meanwhile
 * leaves zeros, which libelf reads as whatever they are. */
static int read_range(struct reader *r, uint64_t off, uint64_t len)
{
	struct bs_symfile *f = r->f;

	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = f->size - off;
	while (len) {
		ssize_t n = pread(r->fd, f->image + off, len < READ_CHUNK ? len : READ_CHUNK, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		off += (uint64_t)n;
		len -= (uint64_t)n;
		f->held += (size_t)n;
		if (bs_clock_ns(CLOCK_MONOTONIC) - r->started > READ_BUDGET_NS)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Whether libdwfl reads a section to name functions (symbol tables, their strings and
 * the section names, notes: the build-id) or to unwind stacks (the call frame
 * information: .eh_frame with its binary-search table .eh_frame_hdr, .debug_frame). */
static bool needed_section(GElf_Word type, const char *name)
{
	if (type == SHT_PROGBITS || type == SHT_X86_64_UNWIND)
		return name && (strcmp(name, ".eh_frame") == 0 || strcmp(name, ".eh_frame_hdr") == 0 ||
				strcmp(name, ".debug_frame") == 0);
	return type == SHT_SYMTAB || type == SHT_DYNSYM || type == SHT_STRTAB || type == SHT_SYMTAB_SHNDX ||
	       type == SHT_NOTE;
}

/* The parts of the file that name its functions and unwind its stacks, at their
 * offsets in an image of the file's size whose other pages are never touched (calloc:
 * no memory until written).
 * Code and data are never read, nor is MiniDebugInfo (.gnu_debugdata: libdwfl finds
 * zeros, not an xz stream that decompresses to whatever size its author chose). A
 * file without section headers is read whole: libdwfl then finds .dynsym through the
 * dynamic segment. */
static int read_image(struct reader *r, const struct stat *st)
{
	struct bs_symfile *f = r->f;
	size_t n_scns = 0, names = 0;
	GElf_Shdr sh;
	GElf_Ehdr eh;
	Elf *elf;
	int err;

	if (st->st_size <= 0 || (uint64_t)st->st_size > BS_SYMFILE_MAX_BYTES)
		return -EFBIG;
	if (!(f->image = calloc(1, st->st_size)))
		return -ENOMEM;
	f->size = st->st_size;
	if ((err = read_range(r, 0, sizeof(Elf64_Ehdr))))
		return err;
	elf = elf_memory(f->image, f->size);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		elf_end(elf);
		return -ENOEXEC;
	}
	elf_end(elf);
	if (eh.e_shnum == 0)
		return read_range(r, 0, f->size);
	if ((err = read_range(r, eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize)) ||
	    (err = read_range(r, eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize)))
		return err;
	/* Now that the tables are in, a handle that reads them. */
	elf = elf_memory(f->image, f->size);
	if (elf_getshdrnum(elf, &n_scns) || elf_getshdrstrndx(elf, &names))
		err = -ENOEXEC;
	/* The section names first: the sections to read are chosen by name too. */
	if (!err && gelf_getshdr(elf_getscn(elf, names), &sh))
		err = read_range(r, sh.sh_offset, sh.sh_size);
	for (size_t i = 1; !err && i < n_scns; i++) {
		if (i != names && gelf_getshdr(elf_getscn(elf, i), &sh) &&
		    needed_section(sh.sh_type, elf_strptr(elf, names, sh.sh_name)))
			err = read_range(r, sh.sh_offset, sh.sh_size);
	}
	for (size_t i = 0; !err && i < eh.e_phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && (ph.p_type == PT_NOTE || ph.p_type == PT_GNU_EH_FRAME))
			err = read_range(r, ph.p_offset, ph.p_filesz);
	}
	elf_end(elf);
	return err;
}

/* The PT_LOAD segments, and the span of addresses they cover. */
static int read_loads(struct bs_symfile *f, Elf *elf, GElf_Addr *low, GElf_Addr *high)
{
	size_t n_phdrs;

	*low = UINT64_MAX;
	*high = 0;
	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n_phdrs) || !n_phdrs)
		return -ENOEXEC;
	if (!(f->loads = calloc(n_phdrs, sizeof(*f->loads))))
		return -ENOMEM;
	for (size_t i = 0; i < n_phdrs; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->loads[f->n_loads++] = (struct bs_load){ ph.p_offset, ph.p_filesz, ph.p_vaddr };
		if (ph.p_vaddr < *low)
			*low = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > *high)
			*high = ph.p_vaddr + ph.p_memsz;
	}
	return f->n_loads && *low < *high ? 0 : -ENOEXEC;
}

/* libdwfl's find_elf: the bytes already read (libdwfl ends the Elf, not the bytes). */
int bs_symfile_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name,
		    Elf **elfp)
{
	struct bs_symfile *f = *userdata;

	(void)mod, (void)name, (void)base, (void)file_name;
	*elfp = elf_memory(f->image, f->size);
	return -1;
}

/* libdwfl's find_debuginfo: DEBUG_ROOT/.build-id/xx/yyyy.debug, where xxyyyy is the
 * file's build-id; the debuglink is ignored. errno is left 0 on a miss, so that libdwfl
 * falls back to .dynsym. */
int bs_symfile_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			  const char *file_name, const char *debuglink, GElf_Word crc, char **debuginfo_name)
{
	struct bs_symfile *f = *userdata;
	const unsigned char *id;
	char path[PATH_MAX];
	GElf_Addr at;
	struct stat st;
	int len = dwfl_module_build_id(mod, &id, &at), n, fd;

	(void)name, (void)base, (void)file_name, (void)debuglink, (void)crc, (void)debuginfo_name;
	if (len < 2 || len > 64)
		return -1;
	n = snprintf(path, sizeof(path), "%s/.build-id/%02x/", f->debug_root, id[0]);
	for (int i = 1; i < len && n > 0 && (size_t)n < sizeof(path); i++)
		n += snprintf(path + n, sizeof(path) - n, "%02x", id[i]);
	if (n <= 0 || (size_t)n + sizeof(".debug") > sizeof(path))
		return -1;
	memcpy(path + n, ".debug", sizeof(".debug"));
	fd = bs_open_regular(path, &st);
	f->debuginfo = fd >= 0;
	errno = 0;
	return fd >= 0 ? fd : -1;
}

static int func_cmp(const void *a, const void *b)
{
	const struct bs_func *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->local != y->local)
		return (int)x->local - (int)y->local;
	return strcmp(x->name, y->name);  /* aliases (write, __write): always the same one */
}

/* The defined functions of the symbol table libdwfl chose (.symtab, the separate
 * debuginfo's, or .dynsym), with those of MiniDebugInfo when that was .dynsym (read
 * through r, when the file is open), sorted; of several at one address, a global one.
 * MiniDebugInfo given up leaves .dynsym's names, and f->debugdata_skipped set. */
static int index_functions(struct bs_symfile *f, const struct reader *r)
{
	int n = dwfl_module_getsymtab(f->mod);
	struct bs_minidebug md = { 0 };
	GElf_Addr bias;
	size_t kept = 0;

	if (n < 1)
		n = 1;  /* none: the module is still known, MiniDebugInfo may name its functions */
	if (r && !f->debuginfo) {
		Elf *elf = dwfl_module_getelf(f->mod, &bias);

		f->debugdata_skipped = bs_minidebug_read(&md, elf, r->fd, r->started + READ_BUDGET_NS) != 0;
	}
	if (n == 1 && !md.n_funcs)
		return 0;  /* nothing to name frames with */
	if (!(f->funcs = calloc(n - 1 + md.n_funcs, sizeof(*f->funcs)))) {
		bs_minidebug_free(&md);
		return -ENOMEM;
	}
	for (size_t i = 0; i < md.n_funcs; i++) {
		f->funcs[kept] = md.funcs[i];
		f->funcs[kept++].addr += f->bias;
	}
	f->debugdata_names = md.names;
	f->held += md.held;
	free(md.funcs);
	for (int i = 1; i < n; i++) {
		GElf_Addr addr;
		GElf_Sym sym;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(f->mod, i, &sym, &addr, &shndx, NULL, NULL);
		int type = name ? GELF_ST_TYPE(sym.st_info) : STT_NOTYPE;

		if ((type == STT_FUNC || type == STT_GNU_IFUNC) && *name && shndx != SHN_UNDEF)
			f->funcs[kept++] = (struct bs_func){ addr, sym.st_size, name,
							     GELF_ST_BIND(sym.st_info) == STB_LOCAL };
	}
	qsort(f->funcs, kept, sizeof(*f->funcs), func_cmp);
	for (size_t i = 0; i < kept; i++) {
		if (!f->n_funcs || f->funcs[f->n_funcs - 1].addr != f->funcs[i].addr)
			f->funcs[f->n_funcs++] = f->funcs[i];
	}
	return 0;
}

const char *bs_symfile_symbol(const struct bs_symfile *f, uint64_t addr, uint64_t *offset)
{
	size_t lo = 0, hi = f->n_funcs;
	const struct bs_func *fn;

	/* The last function at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->funcs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	fn = &f->funcs[lo - 1];
	if (fn->size && addr - fn->addr >= fn->size)
		return NULL;  /* past its end: padding, or code no symbol covers */
	*offset = addr - fn->addr;
	return fn->name;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = bs_symfile_find_elf,
	.find_debuginfo = bs_symfile_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* The file's bytes as an ELF image reported to a Dwfl of its own, its functions
 * indexed (with MiniDebugInfo's, read through r when the file is open). */
static int report(struct bs_symfile *f, const char *name, const struct reader *r)
{
	GElf_Addr low, high;
	void **userdata;
	Elf *elf = elf_memory(f->image, f->size);
	int err = elf ? read_loads(f, elf, &low, &high) : -ENOEXEC;

	elf_end(elf);
	if (err)
		return err;
	if (!(f->dwfl = dwfl_begin(&callbacks)))
		return -ENOMEM;
	f->mod = dwfl_report_module(f->dwfl, name, low, high);
	dwfl_report_end(f->dwfl, NULL, NULL);
	if (!f->mod)
		return -ENOEXEC;
	dwfl_module_info(f->mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = f;
	return dwfl_module_getelf(f->mod, &f->bias) ? index_functions(f, r) : -ENOEXEC;
}

int bs_symfile_open(struct bs_symfile *f, pid_t pid, const struct bs_mapped *m, const char *name)
{
	struct stat st;
	struct reader r = { f, open_mapping(pid, m, &st), bs_clock_ns(CLOCK_MONOTONIC) };
	int err;

	if (r.fd < 0)
		return r.fd;
	err = read_image(&r, &st);
	if (!err)
		err = report(f, name, &r);
	close(r.fd);
	return err;
}

int bs_symfile_image(struct bs_symfile *f, char *image, size_t size, const char *name)
{
	f->image = image;
	f->size = f->held = size;
	return report(f, name, NULL);
}

void bs_symfile_close(struct bs_symfile *f)
{
	if (f->dwfl)
		dwfl_end(f->dwfl);
	free(f->image);
	free(f->loads);
	free(f->funcs);
	free(f->debugdata_names);
	memset(f, 0, sizeof(*f));
}
