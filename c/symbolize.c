/* symbolize.c: the symbolizer (bootstrap_symbolize()): stack addresses to function names.
 *
 * Kernel addresses: /proc/kallsyms, read once, sorted, binary search (a symbol ends
 * where the next begins). User addresses: the process's executable mappings from
 * /proc/PID/maps turn an address into a file and a file offset, the file's program
 * headers turn that into the ELF address, and the function is found in the symbols
 * elfutils' libdwfl reads (the symbol table, .dynsym of a stripped file, or installed
 * debuginfo), sorted once per file. symfile.c reads each file without trusting the
 * process that maps it: a file given up is remembered and counted (files_skipped), so
 * is a process whose maps exceed what is read of them (maps_truncated). Reading is
 * rationed (io_budget of every IO_WINDOW_NS) so that no input holds the event loop,
 * however many new processes with long maps or new files with large symbol tables it
 * brings: past the ration, a file or a process's maps waits for a later event, and
 * the lookup is counted (deferred). Frames in a process's [vdso] are named from the
 * tracer's own vDSO when the process maps that very image (vdso.c); a frame left
 * without a name keeps its module and its offset in the module's file. Files are
 * cached by device and inode, shared by every process that maps them (libc is read once
 * for a whole system), at most MAX_FILES of them holding at most MAX_FILE_BYTES;
 * processes by pid, rechecked at most every PROC_RECHECK_NS: a
 * different start time (the pid was reused) or auxiliary vector (an exec: its random
 * bytes and program headers move) drops what was known of it. A process that has
 * exited keeps its entry (until evicted), so that its last samples, delivered after the
 * exit, are still named: nothing else can have its pid until another process gets it.
 * A user stack copied for unwinding (unwind = "dwarf") is unwound here too
 * (bs_symbolizer_unwind, c/unwind.c), from the same files and the same vDSO image
 * (through a [vdso] only where it would be named): a process keeps its unwinder
 * while its maps do, and all unwinders are dropped when a file is evicted (they hold
 * its bytes).
 */
#include <errno.h>
#include <fcntl.h>
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
#include "kallsyms.h"
#include "symbolize.h"
#include "symfile.h"
#include "vdso.h"
#include "unwind.h"

#define BUCKETS 256
#define MAX_PROCS 1024
#define MAX_FILES 512
#define MAX_FILE_BYTES (1ull << 30)
/* What is read of one process's /proc/PID/maps, and the executable mappings kept. */
#define MAPS_MAX_BYTES (16u << 20)
#define MAPS_MAX_EXEC 65536
#define DEBUG_ROOT "/usr/lib/debug"
#define IO_WINDOW_NS 1000000000ull
#define IO_BUDGET_NS 250000000ull
#define PROC_RECHECK_NS (10 * 1000000ull)
#define AT_ENTRY_KEY 9
#define AT_PHDR_KEY 3
#define AT_RANDOM_KEY 25

struct ksym {
	uint64_t addr;
	uint32_t name;    /* offsets into kernel.pool */
	uint32_t module;
};

struct kernel {
	bool loaded;
	struct ksym *syms;
	size_t n;
	char *pool;
};

struct file {
	struct file *next;
	dev_t dev;
	ino_t ino;
	struct bs_symfile sf;  /* sf.dwfl NULL: not read (given up, unless retry) */
	bool retry;        /* not read because the process or its mapping was gone */
	char *name;        /* its base name, the frames' module */
	uint64_t used;
};

struct identity {      /* what changes when a pid is another process or image */
	uint64_t start_10ms;
	uint64_t auxv[3];  /* AT_RANDOM, AT_PHDR, AT_ENTRY */
};

struct proc {
	struct proc *next;
	pid_t pid;
	struct identity id;
	uint64_t checked_ns;   /* identity last read */
	uint64_t maps_ns;      /* maps last read */
	struct bs_mapped *maps;   /* the executable ones, by address */
	size_t n_maps;
	int vdso;              /* its [vdso] is ours: 1, not: -1, not known yet: 0 (per image) */
	struct bs_unwinder *unwinder;  /* its modules as mapped: dropped with the maps, and
					  when any file is evicted (it holds their bytes) */
	uint64_t unwind_epoch;
	uint64_t used;         /* the event it was last decided for */
};

struct bootstrap_symbolizer {
	struct kernel kernel;
	struct file *files[BUCKETS];
	struct proc *procs[BUCKETS];
	size_t n_files, n_procs;
	uint64_t file_bytes;   /* read in by the cached files */
	struct bs_vdso vdso;      /* the tracer's own vDSO; vdso.sf.dwfl NULL: not read */
	bool vdso_tried;
	uint64_t epoch;        /* files evicted so far: an unwinder older than that is stale */
	const char *debug_root;
	uint64_t io_budget, io_window, io_spent;  /* ns: the ration, its window's start, used */
	struct bs_symbolizer_counts counts;
	/* The current event (bs_symbolizer_next(), or one public call): what is known of a
	 * process is decided once per event, so two serializations of an event agree. Also
	 * the LRU stamp. */
	uint64_t clock;
	long clk_tck;
};

struct bootstrap_symbolizer *bootstrap_symbolizer_new(void)
{
	struct bootstrap_symbolizer *s = calloc(1, sizeof(*s));

	if (s) {
		s->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
		s->debug_root = DEBUG_ROOT;
		s->io_budget = IO_BUDGET_NS;
	}
	return s;
}

/* --- kernel ---------------------------------------------------------------------- */

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint32_t pool_add(char **pool, size_t *len, size_t *cap, const char *s, size_t n)
{
	uint32_t at = *len;

	if (*len + n + 1 > *cap) {
		size_t grown = *cap ? *cap * 2 : 1 << 20;
		char *p;

		while (*len + n + 1 > grown)
			grown *= 2;
		if (!(p = realloc(*pool, grown)))
			return UINT32_MAX;
		*pool = p;
		*cap = grown;
	}
	memcpy(*pool + *len, s, n);
	(*pool)[*len + n] = '\0';
	*len += n + 1;
	return at;
}

/* What load_kallsyms() builds up. */
struct kallsyms_load {
	struct kernel *k;
	size_t cap, len, pool_cap, pool_len;
	uint32_t kernel_name;
};

static int add_ksym(void *ctx, const struct bs_ksym *ks)
{
	struct kallsyms_load *l = ctx;
	struct ksym sym = { ks->addr, 0, l->kernel_name };

	if (!ks->addr)
		return 0;
	if (ks->module)
		sym.module = pool_add(&l->k->pool, &l->pool_len, &l->pool_cap, ks->module, strlen(ks->module));
	sym.name = pool_add(&l->k->pool, &l->pool_len, &l->pool_cap, ks->name, strlen(ks->name));
	if (sym.name == UINT32_MAX || sym.module == UINT32_MAX)
		return 1;
	if (l->len == l->cap) {
		struct ksym *grown = realloc(l->k->syms, (l->cap = l->cap ? l->cap * 2 : 65536) * sizeof(*grown));

		if (!grown)
			return 1;
		l->k->syms = grown;
	}
	l->k->syms[l->len++] = sym;
	return 0;
}

/* Text and weak symbols; none when the addresses are hidden (kptr_restrict, no
 * CAP_SYSLOG): they read as zero. */
static void load_kallsyms(struct kernel *k)
{
	struct kallsyms_load l = { .k = k };

	k->loaded = true;
	l.kernel_name = pool_add(&k->pool, &l.pool_len, &l.pool_cap, "[kernel]", 8);
	if (l.kernel_name != UINT32_MAX)
		bs_kallsyms_each(BS_KALLSYMS, "tTwW", add_ksym, &l);
	qsort(k->syms, l.len, sizeof(*k->syms), ksym_cmp);
	k->n = l.len;
}

static bool kernel_symbol(struct bootstrap_symbolizer *s, uint64_t addr, struct bootstrap_symbol *out)
{
	struct kernel *k = &s->kernel;
	size_t lo = 0, hi;

	if (!k->loaded)
		load_kallsyms(k);
	hi = k->n;
	/* The last symbol at or below addr; it ends where the next one starts. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || lo == k->n)
		return false;
	out->name = k->pool + k->syms[lo - 1].name;
	out->module = k->pool + k->syms[lo - 1].module;
	out->offset = addr - k->syms[lo - 1].addr;
	return true;
}

/* --- the reading ration ------------------------------------------------------------- */

/* Whether reading may start now (*started is then when); else the lookup is deferred. */
static bool io_begin(struct bootstrap_symbolizer *s, uint64_t *started)
{
	uint64_t now = bs_clock_ns(CLOCK_MONOTONIC);

	if (now - s->io_window >= IO_WINDOW_NS) {
		s->io_window = now;
		s->io_spent = 0;
	}
	if (s->io_spent >= s->io_budget) {
		s->counts.deferred++;
		return false;
	}
	*started = now;
	return true;
}

static void io_end(struct bootstrap_symbolizer *s, uint64_t started)
{
	s->io_spent += bs_clock_ns(CLOCK_MONOTONIC) - started;
}

/* --- files ------------------------------------------------------------------------ */

static void file_free(struct file *f)
{
	bs_symfile_close(&f->sf);
	free(f->name);
	free(f);
}

/* Reads f through mapping m of pid. A file given up is remembered (and counted), so
 * that it costs nothing more; one not reached because the process exited or unmapped
 * it meanwhile (a short-lived process) is tried again through the next mapping of it. */
static void file_read(struct bootstrap_symbolizer *s, struct file *f, pid_t pid, const struct bs_mapped *m)
{
	int err;

	f->sf.debug_root = s->debug_root;
	err = bs_symfile_open(&f->sf, pid, m, f->name);
	f->retry = err == -ENOENT;
	if (err) {
		bs_symfile_close(&f->sf);
		s->counts.files_skipped += !f->retry;
	} else {
		s->counts.files_skipped += f->sf.debugdata_skipped;
	}
	s->file_bytes += f->sf.held;
}

static struct file *file_get(struct bootstrap_symbolizer *s, pid_t pid, const struct bs_mapped *m)
{
	static const char deleted[] = " (deleted)";
	struct file **bucket = &s->files[(m->dev ^ m->ino) % BUCKETS], *f;
	const char *base = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
	size_t len = strlen(base);
	uint64_t started;

	for (f = *bucket; f; f = f->next) {
		if (f->dev == m->dev && f->ino == m->ino)
			break;
	}
	if (!f) {
		if (!(f = calloc(1, sizeof(*f))))
			return NULL;
		f->dev = m->dev;
		f->ino = m->ino;
		if (len > sizeof(deleted) - 1 && strcmp(base + len - (sizeof(deleted) - 1), deleted) == 0)
			len -= sizeof(deleted) - 1;
		if (!(f->name = strndup(base, len))) {
			free(f);
			return NULL;
		}
		f->retry = true;
		f->next = *bucket;
		*bucket = f;
		s->n_files++;
	}
	if (f->retry && io_begin(s, &started)) {
		file_read(s, f, pid, m);
		io_end(s, started);
	}
	f->used = s->clock;
	return f;
}

/* The function at file offset `off` of f (an offset within one of its PT_LOADs). */
static bool file_symbol(const struct bs_symfile *f, uint64_t off, struct bootstrap_symbol *out)
{
	for (size_t i = 0; f->dwfl && i < f->n_loads; i++) {
		const struct bs_load *l = &f->loads[i];

		if (off < l->off || off >= l->off + l->filesz)
			continue;
		out->name = bs_symfile_symbol(f, off - l->off + l->vaddr + f->bias, &out->offset);
		return out->name != NULL;
	}
	return false;
}

/* --- processes ---------------------------------------------------------------------- */

static void proc_maps_free(struct proc *p)
{
	bs_unwinder_free(p->unwinder);
	p->unwinder = NULL;
	for (size_t i = 0; i < p->n_maps; i++)
		free(p->maps[i].path);
	free(p->maps);
	p->maps = NULL;
	p->n_maps = 0;
}

/* The start time (10 ms units) and the exec-specific auxv entries; false when pid is
 * gone or unreadable. */
static bool read_identity(const struct bootstrap_symbolizer *s, pid_t pid, struct identity *id)
{
	char path[64], buf[1024];
	uint64_t auxv[64];
	unsigned long long start;
	const char *paren;
	ssize_t n;
	int fd;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* Field 22, starttime; comm (field 2) may hold spaces and parentheses. */
	if (!(paren = strrchr(buf, ')')) ||
	    sscanf(paren + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   &start) != 1)
		return false;
	id->start_10ms = start * 100 / s->clk_tck;
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, auxv, sizeof(auxv));
	close(fd);
	if (n <= 0) /* a zombie: its memory is gone already */
		return false;
	for (ssize_t i = 0; i + 1 < n / 8; i += 2) {
		int slot = auxv[i] == AT_RANDOM_KEY ? 0 : auxv[i] == AT_PHDR_KEY ? 1 : auxv[i] == AT_ENTRY_KEY ? 2 : -1;

		if (slot >= 0)
			id->auxv[slot] = auxv[i + 1];
	}
	return true;
}

/* Whether the process the event's upid names is the one pid is now: upid holds the
 * start in 10 ms units of the monotonic clock (31 bits), /proc that of the boot clock,
 * which is later by the time suspended before the start. */
static bool same_process(const struct identity *id, uint64_t upid)
{
	uint64_t monotonic = bs_clock_ns(CLOCK_MONOTONIC);  /* first: the boot clock is read later */
	uint64_t suspended = (bs_clock_ns(CLOCK_BOOTTIME) - monotonic) / 10000000;
	uint64_t diff = (id->start_10ms - (upid >> 22)) & 0x7fffffff;

	return diff <= suspended + 1;
}

/* Decides whether p's [vdso] mapping m holds the tracer's own vDSO, once per process
 * image: a mapping of another image is counted as given up; one that could not be read
 * (the process exited, a short-lived one) stays undecided and uncounted. */
static void vdso_decide(struct bootstrap_symbolizer *s, struct proc *p, const struct bs_mapped *m)
{
	int same;

	if (p->vdso)
		return;
	if (!s->vdso_tried) {
		s->vdso_tried = true;
		s->vdso.sf.debug_root = s->debug_root;
		if (bs_vdso_open(&s->vdso))
			bs_vdso_close(&s->vdso);
	}
	same = s->vdso.sf.dwfl ? bs_vdso_compare(&s->vdso, p->pid, m) : 0;
	if (same >= 0) {
		p->vdso = same ? 1 : -1;
		s->counts.files_skipped += !same;
	}
}

/* The executable mappings of /proc/PID/maps, whatever a line's length (a path may be
 * longer than PATH_MAX), reading at most MAPS_MAX_BYTES and keeping MAPS_MAX_EXEC. */
static bool load_maps(struct bootstrap_symbolizer *s, struct proc *p)
{
	char path[64], *line = NULL;
	size_t cap = 0, line_cap = 0, seen = 0;
	ssize_t len;
	FILE *f;

	proc_maps_free(p);
	p->maps_ns = bs_clock_ns(CLOCK_MONOTONIC);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	if (!(f = fopen(path, "re")))
		return false;
	while ((len = getline(&line, &line_cap, f)) > 0) {
		struct bs_mapped m = { 0 };
		char perms[8];
		unsigned int major, minor;
		unsigned long inode;
		int name_at = 0;

		if ((seen += (size_t)len) > MAPS_MAX_BYTES || p->n_maps == MAPS_MAX_EXEC) {
			s->counts.maps_truncated++;
			break;
		}
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %lu %n", &m.start, &m.end, perms,
			   &m.off, &major, &minor, &inode, &name_at) < 7 || !strchr(perms, 'x'))
			continue;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		m.dev = makedev(major, minor);
		m.ino = inode;
		if (name_at && line[name_at] && !(m.path = strdup(line + name_at)))
			break;
		if (p->n_maps == cap) {
			struct bs_mapped *grown = realloc(p->maps, (cap = cap ? 2 * cap : 32) * sizeof(*grown));

			if (!grown) {
				free(m.path);
				break;
			}
			p->maps = grown;
		}
		p->maps[p->n_maps++] = m;
	}
	free(line);
	fclose(f);
	return true;
}

/* load_maps() within the ration; else the maps are read at a later event. Its [vdso] is
 * decided now, while the process is most likely alive: a sample in it may be delivered
 * after the process exited. */
static void read_maps(struct bootstrap_symbolizer *s, struct proc *p)
{
	uint64_t started;

	if (io_begin(s, &started)) {
		load_maps(s, p);
		for (size_t i = 0; i < p->n_maps; i++) {
			if (p->maps[i].path && strcmp(p->maps[i].path, "[vdso]") == 0)
				vdso_decide(s, p, &p->maps[i]);
		}
		io_end(s, started);
	}
}

static void proc_unlink(struct bootstrap_symbolizer *s, struct proc *p)
{
	struct proc **at = &s->procs[p->pid % BUCKETS];

	while (*at != p)
		at = &(*at)->next;
	*at = p->next;
	proc_maps_free(p);
	free(p);
	s->n_procs--;
}

static const struct bs_mapped *find_mapping(const struct proc *p, uint64_t addr);

/* Whether some of the addresses are in none of the known mappings. */
static bool any_unmapped(const struct proc *p, const uint64_t *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!find_mapping(p, addrs[i]))
			return true;
	}
	return false;
}

/* The cache entry of pid, current, or NULL when pid is gone or is not (any more) the
 * process upid names. Decided at the first call of an event: later ones (the rest of
 * its stack, the same event serialized again) see what that one saw. */
static struct proc *proc_get(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, const uint64_t *addrs,
			     size_t n)
{
	struct proc *p;
	struct identity id;
	uint64_t now = bs_clock_ns(CLOCK_MONOTONIC);

	for (p = s->procs[pid % BUCKETS]; p && p->pid != pid; p = p->next)
		;
	if (p && p->used == s->clock)
		return p;
	if (p && now - p->checked_ns < PROC_RECHECK_NS && (!upid || same_process(&p->id, upid))) {
		/* Mapped since the last look (dlopen, JIT): looked again at most once a period. */
		if (now - p->maps_ns >= PROC_RECHECK_NS && any_unmapped(p, addrs, n))
			read_maps(s, p);
		p->used = s->clock;
		return p;
	}
	if (!read_identity(s, pid, &id)) {
		/* Gone, and no process has its pid yet: what was known of it still holds
		 * for its samples delivered after its exit. */
		if (p && (!upid || same_process(&p->id, upid))) {
			p->checked_ns = now;
			p->used = s->clock;
			return p;
		}
		return NULL;
	}
	if (upid && ((upid & 0x3fffff) != (uint64_t)(pid & 0x3fffff) || !same_process(&id, upid)))
		return NULL;
	if (!p) {
		if (!(p = calloc(1, sizeof(*p))))
			return NULL;
		p->pid = pid;
		p->next = s->procs[pid % BUCKETS];
		s->procs[pid % BUCKETS] = p;
		s->n_procs++;
	}
	if (memcmp(&id, &p->id, sizeof(id)) != 0) {  /* another image: its maps are others */
		p->id = id;
		p->vdso = 0;
		proc_maps_free(p);
	}
	/* Mapped since the maps were read: a process first seen in ld.so, before its
	 * libraries were mapped, and looked at again a period later (49 Hz samples are 20
	 * ms apart) would have them unknown for good. */
	if (!p->maps || (now - p->maps_ns >= PROC_RECHECK_NS && any_unmapped(p, addrs, n)))
		read_maps(s, p);
	p->checked_ns = now;
	p->used = s->clock;
	return p;
}

static const struct bs_mapped *find_mapping(const struct proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->maps[mid].end <= addr)
			lo = mid + 1;
		else if (p->maps[mid].start > addr)
			hi = mid;
		else
			return &p->maps[mid];
	}
	return NULL;
}

/* The tracer's own vDSO, when p's [vdso] mapping m holds that very image; else NULL. */
static const struct bs_symfile *vdso_get(struct bootstrap_symbolizer *s, struct proc *p, const struct bs_mapped *m)
{
	vdso_decide(s, p, m);
	return p->vdso > 0 ? &s->vdso.sf : NULL;
}

/* The image mapping m of p maps, read: its file, or the tracer's vDSO for a [vdso] of
 * that very image; NULL when there is none or it was not read. *module is the frames'
 * module all the same (NULL when unknown). */
static const struct bs_symfile *mapped_image(struct bootstrap_symbolizer *s, struct proc *p,
					     const struct bs_mapped *m, const char **module)
{
	struct file *f;

	*module = NULL;
	if (!m->path)
		return NULL;
	if (m->path[0] == '[' || !m->ino) { /* [vdso], [vsyscall]: no file to read */
		*module = m->path;
		return strcmp(m->path, "[vdso]") == 0 ? vdso_get(s, p, m) : NULL;
	}
	if (!(f = file_get(s, p->pid, m)))
		return NULL;
	*module = f->name;
	return f->sf.dwfl ? &f->sf : NULL;
}

/* The function at addr of process p; without one, the module and the offset in its file. */
static bool user_symbol(struct bootstrap_symbolizer *s, struct proc *p, uint64_t addr, struct bootstrap_symbol *out)
{
	const struct bs_mapped *m = find_mapping(p, addr);
	const struct bs_symfile *sf;

	if (!m || !m->path)
		return false;
	out->offset = addr - m->start + m->off;
	sf = mapped_image(s, p, m, &out->module);
	return sf && file_symbol(sf, out->offset, out);
}

/* --- the cache's bounds, the public calls ------------------------------------------ */

static void evict(struct bootstrap_symbolizer *s)
{
	while (s->n_procs > MAX_PROCS) {
		struct proc *oldest = NULL;

		for (int b = 0; b < BUCKETS; b++)
			for (struct proc *p = s->procs[b]; p; p = p->next)
				if (!oldest || p->used < oldest->used)
					oldest = p;
		proc_unlink(s, oldest);
	}
	while (s->n_files > MAX_FILES || s->file_bytes > MAX_FILE_BYTES) {
		struct file **oldest = NULL, *gone;

		for (int b = 0; b < BUCKETS; b++)
			for (struct file **f = &s->files[b]; *f; f = &(*f)->next)
				if (!oldest || (*f)->used < (*oldest)->used)
					oldest = f;
		gone = *oldest;
		*oldest = gone->next;
		s->epoch++;
		s->file_bytes -= gone->sf.held;
		file_free(gone);
		s->n_files--;
	}
}

void bs_symbolizer_debug_root(struct bootstrap_symbolizer *s, const char *dir)
{
	s->debug_root = dir;
}

void bs_symbolizer_io_budget(struct bootstrap_symbolizer *s, uint64_t ns)
{
	s->io_budget = ns;
}

void bs_symbolizer_counts(const struct bootstrap_symbolizer *s, struct bs_symbolizer_counts *out)
{
	*out = s->counts;
}

void bs_symbolizer_next(struct bootstrap_symbolizer *s)
{
	evict(s);
	s->clock++;
}

int bootstrap_symbolize(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, const uint64_t *addrs,
			size_t n, struct bootstrap_symbol *out)
{
	if (s)
		bs_symbolizer_next(s);
	return bs_symbolize(s, pid, upid, addrs, n, 0, out);
}

int bs_symbolize(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, const uint64_t *addrs, size_t n,
		 size_t first, struct bootstrap_symbol *out)
{
	struct proc *p = NULL;
	int named = 0;

	if (!s || (n && (!addrs || !out)) || pid < 0)
		return -EINVAL;
	if (n)
		memset(out, 0, n * sizeof(*out));
	if (pid && !(p = proc_get(s, pid, upid, addrs, n)))
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* A return address may be the first byte after the function that called. */
		uint64_t at = first + i ? addrs[i] - 1 : addrs[i];
		bool found = p ? user_symbol(s, p, at, &out[i]) : kernel_symbol(s, at, &out[i]);

		named += found;
		if (!found)
			out[i].name = NULL;
		if (found || out[i].module)  /* the offset in the function, else in the module */
			out[i].offset += addrs[i] - at;
		else
			out[i].offset = 0;
	}
	return named;
}

struct unwind_ctx {
	struct bootstrap_symbolizer *s;
	struct proc *p;
};

/* The image mapped at addr, read, and where its ELF addresses are mapped
 * (bs_unwind_find_fn): a file, or the [vdso] when it is the tracer's own image (its
 * .eh_frame unwinds the vDSO's functions to their callers); a [vdso] of another image
 * (one its process wrote into, another architecture's) stops the walk there. */
static bool unwind_find(void *arg, uint64_t addr, struct bs_unwind_module *out)
{
	struct unwind_ctx *c = arg;
	const struct bs_mapped *m = find_mapping(c->p, addr);
	const struct bs_symfile *sf;
	const char *name;

	if (!m || !(sf = mapped_image(c->s, c->p, m, &name)))
		return false;
	/* The segment this mapping is of: the mapping's offset is page-aligned down from it. */
	for (size_t i = 0; i < sf->n_loads; i++) {
		const struct bs_load *l = &sf->loads[i];

		if (m->off >= (l->off & ~(uint64_t)0xfff) && m->off < l->off + l->filesz) {
			out->sf = sf;
			out->name = name;
			out->bias = m->start - m->off - (l->vaddr - l->off);
			return true;
		}
	}
	return false;
}

size_t bs_symbolizer_unwind(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, pid_t tid, const char *raw,
			    size_t len, uint64_t *frames, size_t max, bool *whole)
{
	struct bootstrap_ustack_regs regs;
	enum bs_unwind_end end = BS_UNWIND_PARTIAL;
	struct unwind_ctx c = { s, NULL };
	uint64_t ip, started;
	size_t n = 0;

	*whole = false;
	if (len < sizeof(regs) || !max)
		return 0;
	started = bs_clock_ns(CLOCK_MONOTONIC);
	memcpy(&regs, raw, sizeof(regs));
	ip = regs.ip;
	if (!(c.p = proc_get(s, pid, upid, &ip, 1))) {
		frames[0] = regs.ip;
		n = 1;
	} else {
		if (c.p->unwinder && c.p->unwind_epoch != s->epoch) {
			bs_unwinder_free(c.p->unwinder);
			c.p->unwinder = NULL;
		}
		c.p->unwind_epoch = s->epoch;
		n = bs_unwind(&c.p->unwinder, pid, tid, &regs, raw + sizeof(regs), len - sizeof(regs), unwind_find, &c,
			      frames, max, &end);
		/* Stopped at a return address outside the mappings known (the addresses were
		 * not known before the walk): read the maps again, at most once a period, and
		 * walk again. Reading them drops the unwinder, so not from inside the walk. */
		if (end == BS_UNWIND_PARTIAL && n > 1 && !find_mapping(c.p, frames[n - 1] - 1) &&
		    bs_clock_ns(CLOCK_MONOTONIC) - c.p->maps_ns >= PROC_RECHECK_NS) {
			read_maps(s, c.p);
			n = bs_unwind(&c.p->unwinder, pid, tid, &regs, raw + sizeof(regs), len - sizeof(regs), unwind_find,
				      &c, frames, max, &end);
		}
	}
	*whole = end == BS_UNWIND_COMPLETE;
	s->counts.unwind_partial += end == BS_UNWIND_PARTIAL;
	s->counts.unwound++;
	s->counts.unwind_bytes += len;
	s->counts.unwind_ns += bs_clock_ns(CLOCK_MONOTONIC) - started;
	return n;
}

size_t bootstrap_frame_format(const struct bootstrap_symbol *sym, uint64_t addr, char *buf, size_t cap)
{
	int n;

	if (sym->name && sym->module)
		n = snprintf(buf, cap, "%s+0x%" PRIx64 " (%s)", sym->name, sym->offset, sym->module);
	else if (sym->name)
		n = snprintf(buf, cap, "%s+0x%" PRIx64, sym->name, sym->offset);
	else if (sym->module)
		n = snprintf(buf, cap, "0x%" PRIx64 " (%s+0x%" PRIx64 ")", addr, sym->module, sym->offset);
	else
		n = snprintf(buf, cap, "0x%" PRIx64, addr);
	return n < 0 ? 0 : (size_t)n;
}

void bootstrap_symbolizer_free(struct bootstrap_symbolizer *s)
{
	if (!s)
		return;
	for (int b = 0; b < BUCKETS; b++) {
		while (s->procs[b])
			proc_unlink(s, s->procs[b]);
		for (struct file *f = s->files[b], *next; f; f = next) {
			next = f->next;
			file_free(f);
		}
	}
	bs_vdso_close(&s->vdso);
	free(s->kernel.syms);
	free(s->kernel.pool);
	free(s);
}
