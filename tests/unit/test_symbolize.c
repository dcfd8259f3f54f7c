/* test_symbolize.c: the symbolizer without BPF, on a known fixture (tests/fixtures/
 * symbolize): its functions named in a PIE, a non-PIE executable, a shared library, a
 * stripped PIE with separate debuginfo found by build-id, never by debuglink (one names
 * a FIFO), and one with MiniDebugInfo (another's an xz bomb, given up); a maps line
 * longer than PATH_MAX, maps longer than what is read; a file too large, given up and
 * counted; the reading ration; return addresses; a process that exec'd, one that
 * exited (also before its file was read), a pid whose upid is another process; frames
 * in the vDSO (also of a process that exited since), and in one its process wrote
 * into (neither named nor unwound through with the tracer's image); the vDSO compared
 * without touching the process's memory; an unnamed frame's module and
 * offset; kernel symbols; the frame text and a stack field in an NDJSON line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"
#include "symbolize.h"
#include "symfile.h"
#include "vdso.h"
#include "vdso_image.h"

#define FIXTURES "build/tests/symbolize/"
/* Longer than the symbolizer's recheck period of a process (10 ms). */
#define AFTER_RECHECK_US 30000

struct fixture {
	pid_t pid;
	FILE *in, *out;
	uint64_t local, global, lib;
};

/* Reads the "local/global/lib ADDR" lines up to "ready". */
static void read_addresses(struct fixture *f)
{
	char line[256];

	while (fgets(line, sizeof(line), f->out) && strcmp(line, "ready\n") != 0) {
		void *p;

		if (sscanf(line, "local %p", &p) == 1)
			f->local = (uintptr_t)p;
		else if (sscanf(line, "global %p", &p) == 1)
			f->global = (uintptr_t)p;
		else if (sscanf(line, "lib %p", &p) == 1)
			f->lib = (uintptr_t)p;
	}
	cr_assert(f->local && f->global && f->lib, "the fixture printed its addresses");
}

static void start(struct fixture *f, const char *path)
{
	int in[2], out[2];

	/* Close-on-exec, or the child would hold its own stdin open and never see its end. */
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	f->pid = fork();
	cr_assert_geq(f->pid, 0);
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->in = fdopen(in[1], "w");
	f->out = fdopen(out[0], "r");
	read_addresses(f);
}

static void stop(struct fixture *f)
{
	int status;

	fclose(f->in);
	waitpid(f->pid, &status, 0);
	fclose(f->out);
}

/* The innermost frame (an exact address) of process pid. */
static struct bootstrap_symbol one(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, uint64_t addr)
{
	struct bootstrap_symbol sym;

	cr_assert_geq(bootstrap_symbolize(s, pid, upid, &addr, 1, &sym), 0);
	return sym;
}

static void assert_named(struct bootstrap_symbol sym, const char *name, const char *module)
{
	cr_assert_not_null(sym.name, "expected %s", name);
	cr_assert_str_eq(sym.name, name);
	cr_assert_eq(sym.offset, 0);
	cr_assert_str_eq(sym.module, module);
}

static void assert_named_with(struct bootstrap_symbolizer *s, const char *binary, const char *module)
{
	struct fixture f;

	start(&f, binary);
	assert_named(one(s, f.pid, 0, f.local), "symfix_local", module);
	assert_named(one(s, f.pid, 0, f.global), "symfix_global", module);
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
}

static void assert_fixture_named(const char *binary, const char *module)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();

	assert_named_with(s, binary, module);
	bootstrap_symbolizer_free(s);
}

static void assert_counts(const struct bootstrap_symbolizer *s, uint64_t files_skipped, uint64_t maps_truncated)
{
	struct bs_symbolizer_counts c;

	bs_symbolizer_counts(s, &c);
	cr_assert_eq(c.files_skipped, files_skipped);
	cr_assert_eq(c.maps_truncated, maps_truncated);
	cr_assert_eq(c.deferred, 0);
}

/* The upid the kernel side would give the process: its start in 10 ms units. */
static uint64_t upid_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start;
	FILE *f;
	char *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_not_null(paren = strrchr(buf, ')'));
	cr_assert_eq(sscanf(paren + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			    &start), 1);
	return (start * 100 / sysconf(_SC_CLK_TCK)) << 22 | (uint64_t)pid;
}

Test(symbolize, pie_executable_and_library)
{
	assert_fixture_named(FIXTURES "symfix-pie", "symfix-pie");
}

Test(symbolize, non_pie_executable)
{
	assert_fixture_named(FIXTURES "symfix-nopie", "symfix-nopie");
}

Test(symbolize, stripped_executable_with_debuginfo_by_build_id)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();

	bs_symbolizer_debug_root(s, FIXTURES "debug");
	assert_named_with(s, FIXTURES "symfix-stripped", "symfix-stripped");
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* A stripped program with MiniDebugInfo (made as Fedora makes it, tests/tests.mk): its
 * functions .dynsym lacks, a static one too, are named from that alone. */
Test(symbolize, minidebuginfo_names_what_dynsym_lacks)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();

	assert_named_with(s, FIXTURES "symfix-minidebug", "symfix-minidebug");
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* MiniDebugInfo that decompresses to 1 GiB of zeros (tests/fixtures/symbolize/xzbomb.py),
 * in the stripped program: given up at the output cap (64 MiB), counted once, never
 * tried again; the library's names still come, and the memory used grew by less than
 * what the stream decompresses to. */
#define XZBOMB_BYTES (1ull << 30)
Test(symbolize, minidebuginfo_past_its_cap_is_given_up_and_counted)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct rusage before, after;
	struct bootstrap_symbol sym;
	struct fixture f;

	/* Decompressing up to the cap may take longer than the ration: not what is tested here. */
	bs_symbolizer_io_budget(s, UINT64_MAX);
	start(&f, FIXTURES "symfix-xzbomb");
	cr_assert_eq(getrusage(RUSAGE_SELF, &before), 0);
	sym = one(s, f.pid, 0, f.local);
	cr_assert_eq(getrusage(RUSAGE_SELF, &after), 0);
	cr_assert_null(sym.name);
	cr_assert_str_eq(sym.module, "symfix-xzbomb");
	assert_counts(s, 1, 0);
	cr_log_info("peak RSS grew by %ld KiB", after.ru_maxrss - before.ru_maxrss);
	cr_assert_lt((uint64_t)(after.ru_maxrss - before.ru_maxrss) * 1024, XZBOMB_BYTES);
	cr_assert_null(one(s, f.pid, 0, f.global).name);
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	assert_counts(s, 1, 0);
	stop(&f);
	bootstrap_symbolizer_free(s);
}

/* The file its debuglink names, beside it, holds its symbols: never read. */
Test(symbolize, debuglink_is_not_followed)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol sym;
	struct fixture f;

	start(&f, FIXTURES "symfix-stripped");
	sym = one(s, f.pid, 0, f.local);
	cr_assert_null(sym.name);
	cr_assert_str_eq(sym.module, "symfix-stripped");
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* A program without build-id whose debuglink names a FIFO beside it: opening that
 * would block until a writer comes (the timeout only detects the hang). */
Test(symbolize, debuglink_to_a_fifo_is_not_opened, .timeout = 120)
{
	static const char fifo[] = FIXTURES "symfix-fifolink.debug";
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol sym;
	struct fixture f;

	unlink(fifo);
	cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
	start(&f, FIXTURES "symfix-fifolink");
	sym = one(s, f.pid, 0, f.local);
	cr_assert_null(sym.name);
	cr_assert_str_eq(sym.module, "symfix-fifolink");
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
	unlink(fifo);
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* The line of /proc/PID/maps of the mapping that holds addr, or (addr 0) of the one
 * named name: its start, end and file offset. */
static void maps_line(pid_t pid, uint64_t addr, const char *name, uint64_t *from, uint64_t *to, uint64_t *off)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"));
	while (!found && fgets(line, sizeof(line), f)) {
		int at = 0;

		line[strcspn(line, "\n")] = '\0';
		cr_assert_eq(sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n", from, to, off, &at), 3);
		found = name ? strcmp(line + at, name) == 0 : *from <= addr && addr < *to;
	}
	fclose(f);
	cr_assert(found, "no mapping of %s in %s", name ? name : "the address", path);
}

/* A frame in a file the symbolizer read, at no symbol: its module and its offset in
 * the file, the mapping's offset plus the address's place in the mapping. */
Test(symbolize, unnamed_frame_keeps_module_and_file_offset)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol syms[2];
	uint64_t stack[2], from, to, off;
	char want[128], buf[128];
	struct fixture f;

	start(&f, FIXTURES "symfix-stripped");
	maps_line(f.pid, f.local, NULL, &from, &to, &off);
	/* The innermost frame, and a return address (looked up one byte back). */
	stack[0] = f.local;
	stack[1] = f.global + 1;
	cr_assert_eq(bootstrap_symbolize(s, f.pid, 0, stack, 2, syms), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_null(syms[i].name);
		cr_assert_str_eq(syms[i].module, "symfix-stripped");
		cr_assert_eq(syms[i].offset, stack[i] - from + off);
	}
	snprintf(want, sizeof(want), "0x%" PRIx64 " (symfix-stripped+0x%" PRIx64 ")", f.local, f.local - from + off);
	bootstrap_frame_format(&syms[0], f.local, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
	stop(&f);
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

struct named_function {
	const char *name;
	uint64_t offset;
};

static bool has_name(const char *name, const GElf_Sym *sym, void *want)
{
	struct named_function *f = want;

	f->offset = sym->st_value;
	return strcmp(name, f->name) == 0;
}

/* Where function name is in this process's own vDSO, the image every process of this
 * architecture maps: its offset in the image. */
static uint64_t vdso_offset_of(const char *name)
{
	struct named_function f = { name, 0 };

	cr_assert(vdso_find_function(has_name, &f), "no %s in the vDSO", name);
	return f.offset;
}

/* A frame in another process's vDSO is named from the tracer's own (the image is the
 * kernel's): of the aliases at that address (clock_gettime is a weak one), always the
 * same one. */
Test(symbolize, vdso_frames_are_named)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	uint64_t from, to, off, at = vdso_offset_of("__vdso_clock_gettime");
	struct bootstrap_symbol sym;
	struct fixture f;

	start(&f, FIXTURES "symfix-pie");
	maps_line(f.pid, 0, "[vdso]", &from, &to, &off);
	sym = one(s, f.pid, 0, from + at + 3);
	cr_assert_str_eq(sym.name, "__vdso_clock_gettime");
	cr_assert_eq(sym.offset, 3);
	cr_assert_str_eq(sym.module, "[vdso]");
	stop(&f);
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* A frame in the vDSO of a process that exited since its maps were read (a sample
 * delivered late, the last of a short-lived process) is named all the same: its image
 * was compared while the process was alive, and nothing was given up. */
Test(symbolize, vdso_frame_of_an_exited_process_is_named)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	uint64_t from, to, off, upid, at = vdso_offset_of("__vdso_clock_gettime");
	struct fixture f;

	start(&f, FIXTURES "symfix-pie");
	upid = upid_of(f.pid);
	maps_line(f.pid, 0, "[vdso]", &from, &to, &off);
	assert_named(one(s, f.pid, upid, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
	usleep(AFTER_RECHECK_US);
	assert_named(one(s, f.pid, upid, from + at), "__vdso_clock_gettime", "[vdso]");
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* Whether a process's [vdso] is the tracer's image is read from its page table, never
 * from its memory: where a process put, in place of its vDSO, memory whose first touch
 * waits for good (here a userfaultfd nobody serves; a FUSE file whose server never
 * answers is the same), the answer is "not known" at once. Reading its bytes there
 * (process_vm_readv, before) waited for good. */
Test(symbolize, vdso_compare_touches_no_memory_of_the_process, .timeout = 30)
{
	struct bs_vdso v = { 0 };
	struct bs_mapped m = { 0 };
	uint64_t from, to, off;
	struct fixture f;
	char line[64];
	void *at;

	cr_assert_eq(bs_vdso_open(&v), 0, "the vDSO's page numbers are readable (CAP_SYS_ADMIN)");
	start(&f, FIXTURES "symfix-pie");
	maps_line(f.pid, 0, "[vdso]", &from, &to, &off);
	m.start = from;
	m.end = to;
	cr_assert_eq(bs_vdso_compare(&v, f.pid, &m), 1);
	fprintf(f.in, "stall %" PRIu64 "\n", to - from);
	fflush(f.in);
	cr_assert_not_null(fgets(line, sizeof(line), f.out));
	cr_assert_eq(sscanf(line, "stall %p", &at), 1, "the fixture's stalling memory: %s", line);
	m.start = (uintptr_t)at;
	m.end = m.start + (to - from);
	cr_assert_eq(bs_vdso_compare(&v, f.pid, &m), -EAGAIN);
	stop(&f);
	bs_vdso_close(&v);
}

/* A process that wrote into its own vDSO holds other bytes than the tracer's: its frames
 * there are not named from the tracer's image but keep their module and offset, and
 * that is counted, once. */
Test(symbolize, vdso_its_process_wrote_into_is_not_named)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	uint64_t from, to, off, at = vdso_offset_of("__vdso_clock_gettime");
	struct bootstrap_symbol sym;
	struct fixture f;
	char line[64];

	start(&f, FIXTURES "symfix-pie");
	fprintf(f.in, "write-vdso\n");
	fflush(f.in);
	cr_assert_not_null(fgets(line, sizeof(line), f.out));
	cr_assert_str_eq(line, "written\n");
	maps_line(f.pid, 0, "[vdso]", &from, &to, &off);
	for (int i = 0; i < 2; i++) {
		sym = one(s, f.pid, 0, from + at + 3);
		cr_assert_null(sym.name);
		cr_assert_eq(sym.offset, at + 3);
		cr_assert_str_eq(sym.module, "[vdso]");
		assert_counts(s, 1, 0);
	}
	stop(&f);
	bootstrap_symbolizer_free(s);
}

/* A sample on the first instruction of __vdso_clock_gettime in process f, called from
 * symfix_global: the registers, then the stack (the return address alone). Unwound: its
 * frames, at most 4 (the rest of the stack is not there). */
static size_t unwind_from_vdso(struct bootstrap_symbolizer *s, const struct fixture *f, uint64_t *frames, bool *whole)
{
	uint64_t from, to, off, ret = f->global + 1;
	struct bootstrap_ustack_regs r = { .sp = 0x7ffc00001000, .bp = 0 };
	char raw[sizeof(r) + sizeof(ret)];

	maps_line(f->pid, 0, "[vdso]", &from, &to, &off);
	r.ip = from + vdso_offset_of("__vdso_clock_gettime");
	memcpy(raw, &r, sizeof(r));
	memcpy(raw + sizeof(r), &ret, sizeof(ret));
	return bs_symbolizer_unwind(s, f->pid, 0, f->pid, raw, sizeof(raw), frames, 4, whole);
}

/* Nor is a process that wrote into its own vDSO unwound through it with the tracer's
 * image: the walk stops at its frame there, marked and counted, where the same sample in
 * a process that did not goes on to its caller. */
Test(symbolize, vdso_its_process_wrote_into_is_not_unwound_through)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bs_symbolizer_counts c;
	struct fixture intact, written;
	uint64_t frames[4];
	bool whole;
	char line[64];

	start(&intact, FIXTURES "symfix-pie");
	start(&written, FIXTURES "symfix-pie");
	fprintf(written.in, "write-vdso\n");
	fflush(written.in);
	cr_assert_not_null(fgets(line, sizeof(line), written.out));
	cr_assert_str_eq(line, "written\n");
	cr_assert_eq(unwind_from_vdso(s, &intact, frames, &whole), 2);
	cr_assert_eq(frames[1], intact.global + 1);
	assert_counts(s, 0, 0);
	cr_assert_eq(unwind_from_vdso(s, &written, frames, &whole), 1);
	cr_assert_not(whole);
	assert_counts(s, 1, 0);
	bs_symbolizer_counts(s, &c);
	cr_assert_eq(c.unwound, 2);
	cr_assert_eq(c.unwind_partial, 2);
	stop(&intact);
	stop(&written);
	bootstrap_symbolizer_free(s);
}

#define DEEP_LEVELS 24
#define DEEP_NAME_LEN 200

/* A copy of libsymfix.so at a path longer than PATH_MAX (made and removed through
 * directory descriptors: the path itself is too long for open()). */
struct deep {
	char top[sizeof(FIXTURES "deepXXXXXX")];
	char component[DEEP_NAME_LEN + 1];
	int dirs[DEEP_LEVELS + 1];
	int fd;
};

static void deep_make(struct deep *d)
{
	char buf[65536];
	ssize_t n;
	int in;

	memcpy(d->top, FIXTURES "deepXXXXXX", sizeof(d->top));
	memset(d->component, 'd', DEEP_NAME_LEN);
	d->component[DEEP_NAME_LEN] = '\0';
	cr_assert_not_null(mkdtemp(d->top));
	cr_assert_geq(d->dirs[0] = open(d->top, O_RDONLY | O_DIRECTORY), 0);
	for (int i = 1; i <= DEEP_LEVELS; i++) {
		cr_assert_eq(mkdirat(d->dirs[i - 1], d->component, 0700), 0);
		cr_assert_geq(d->dirs[i] = openat(d->dirs[i - 1], d->component, O_RDONLY | O_DIRECTORY), 0);
	}
	cr_assert_geq(in = open(FIXTURES "libsymfix.so", O_RDONLY), 0);
	cr_assert_geq(d->fd = openat(d->dirs[DEEP_LEVELS], "libdeep.so", O_RDWR | O_CREAT | O_EXCL, 0700), 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(d->fd, buf, n), n);
	close(in);
}

static void deep_remove(struct deep *d)
{
	close(d->fd);
	unlinkat(d->dirs[DEEP_LEVELS], "libdeep.so", 0);
	for (int i = DEEP_LEVELS; i > 0; i--) {
		close(d->dirs[i]);
		unlinkat(d->dirs[i - 1], d->component, AT_REMOVEDIR);
	}
	close(d->dirs[0]);
	rmdir(d->top);
}

/* The deep file mapped executable by this process: its maps line is read whole, so
 * the frame's module is the file's own name. */
Test(symbolize, maps_line_longer_than_path_max)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol sym;
	struct deep d;
	void *map;

	deep_make(&d);
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, d.fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	sym = one(s, getpid(), 0, (uintptr_t)map);
	cr_assert_str_eq(sym.module, "libdeep.so");
	assert_counts(s, 0, 0);
	munmap(map, 4096);
	deep_remove(&d);
	bootstrap_symbolizer_free(s);
}

/* More of /proc/PID/maps than is read (16 MiB): thousands of mappings of the deep
 * file, each line about 5 KiB. What was read is used, and the cut is counted. */
#define MANY_MAPS 4000
Test(symbolize, maps_read_in_part_is_counted)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol sym;
	struct deep d;
	char *area;

	deep_make(&d);
	/* Reading 16 MiB of maps may take longer than the ration: not what is tested here. */
	bs_symbolizer_io_budget(s, UINT64_MAX);
	/* Every other page, so that no two mappings merge into one line. */
	area = mmap(NULL, 2 * MANY_MAPS * 4096ul, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(area, MAP_FAILED);
	for (size_t i = 0; i < MANY_MAPS; i++)
		cr_assert_neq(mmap(area + 2 * i * 4096, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, d.fd, 0),
			      MAP_FAILED);
	sym = one(s, getpid(), 0, (uintptr_t)area);
	cr_assert_str_eq(sym.module, "libdeep.so");
	assert_counts(s, 0, 1);
	munmap(area, 2 * MANY_MAPS * 4096ul);
	deep_remove(&d);
	bootstrap_symbolizer_free(s);
}

/* A mapped file over the size read is given up, counted once, and not tried again. */
Test(symbolize, file_too_large_is_given_up_and_counted)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	char path[] = FIXTURES "hugeXXXXXX";
	struct bootstrap_symbol sym;
	int fd = mkstemp(path);
	void *map;

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(ftruncate(fd, (off_t)BS_SYMFILE_MAX_BYTES + 1), 0);
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	sym = one(s, getpid(), 0, (uintptr_t)map);
	cr_assert_null(sym.name);
	cr_assert_not_null(strstr(path, sym.module));
	assert_counts(s, 1, 0);
	one(s, getpid(), 0, (uintptr_t)map + 16);
	assert_counts(s, 1, 0);
	munmap(map, 4096);
	close(fd);
	bootstrap_symbolizer_free(s);
}

Test(symbolize, return_addresses_are_looked_up_one_byte_back)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol syms[2];
	struct fixture f;
	uint64_t stack[2];

	start(&f, FIXTURES "symfix-pie");
	/* A return address just past symfix_global's first byte belongs to it; as the
	 * innermost frame, the address is exact. */
	stack[0] = f.local;
	stack[1] = f.global + 1;
	cr_assert_eq(bootstrap_symbolize(s, f.pid, 0, stack, 2, syms), 2);
	assert_named(syms[0], "symfix_local", "symfix-pie");
	cr_assert_str_eq(syms[1].name, "symfix_global");
	cr_assert_eq(syms[1].offset, 1);
	stop(&f);
	bootstrap_symbolizer_free(s);
}

/* A mapping made after the symbolizer read a process's maps, looked up more than a
 * recheck period later, is found: maps are read again for an address they lack (a
 * process first sampled in ld.so, before its libraries were mapped, kept them unknown
 * when its next sample came a period later, as 49 Hz samples do). */
Test(symbolize, mapping_made_after_a_period_is_found)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol sym;
	uint64_t addr = (uint64_t)(uintptr_t)&bootstrap_symbolizer_new;
	int fd = open(FIXTURES "symfix-pie", O_RDONLY | O_CLOEXEC);
	void *map;

	cr_assert(fd >= 0);
	cr_assert_eq(bootstrap_symbolize(s, getpid(), 0, &addr, 1, &sym), 1);
	usleep(AFTER_RECHECK_US);
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	cr_assert(map != MAP_FAILED);
	addr = (uint64_t)(uintptr_t)map + 16;  /* its ELF header: a module, no function */
	cr_assert_geq(bootstrap_symbolize(s, getpid(), 0, &addr, 1, &sym), 0);
	cr_assert(sym.module && strcmp(sym.module, "symfix-pie") == 0, "module %s", sym.module ? sym.module : "(none)");
	munmap(map, 4096);
	close(fd);
	bootstrap_symbolizer_free(s);
}

Test(symbolize, exec_replaces_what_was_known)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct fixture f;

	start(&f, FIXTURES "symfix-pie");
	assert_named(one(s, f.pid, 0, f.local), "symfix_local", "symfix-pie");
	fprintf(f.in, "exec %s\n", FIXTURES "symfix-nopie");
	fflush(f.in);
	read_addresses(&f);
	usleep(AFTER_RECHECK_US);
	assert_named(one(s, f.pid, 0, f.local), "symfix_local", "symfix-nopie");
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
	bootstrap_symbolizer_free(s);
}


/* Samples delivered after their process exited: named when it was seen alive, else
 * left as addresses. */
Test(symbolize, exited_process_keeps_what_was_known)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new(), *fresh = bootstrap_symbolizer_new();
	struct fixture f;
	uint64_t upid;

	start(&f, FIXTURES "symfix-pie");
	upid = upid_of(f.pid);
	assert_named(one(s, f.pid, upid, f.local), "symfix_local", "symfix-pie");
	stop(&f);
	usleep(AFTER_RECHECK_US);
	assert_named(one(s, f.pid, upid, f.global), "symfix_global", "symfix-pie");
	cr_assert_null(one(fresh, f.pid, upid, f.global).name);
	bootstrap_symbolizer_free(s);
	bootstrap_symbolizer_free(fresh);
}

/* A file first met in a process that had exited (a short-lived one) cannot be opened
 * through it: that is not the file's fault, and the next process mapping it names it. */
Test(symbolize, file_of_an_exited_process_is_read_through_the_next)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_symbol sym;
	struct fixture first, next;
	uint64_t upid;

	start(&first, FIXTURES "symfix-pie");
	upid = upid_of(first.pid);
	/* Its maps are known from a frame in the library; the executable is not read yet. */
	assert_named(one(s, first.pid, upid, first.lib), "symfix_lib_local", "libsymfix.so");
	stop(&first);
	usleep(AFTER_RECHECK_US);
	sym = one(s, first.pid, upid, first.local);
	cr_assert_null(sym.name);
	cr_assert_str_eq(sym.module, "symfix-pie");
	start(&next, FIXTURES "symfix-pie");
	assert_named(one(s, next.pid, 0, next.local), "symfix_local", "symfix-pie");
	stop(&next);
	assert_counts(s, 0, 0);
	bootstrap_symbolizer_free(s);
}

/* With its reading ration used up, the symbolizer reads neither a process's maps nor a
 * new file: each lookup that needed one is counted, and a later one reads it. */
Test(symbolize, reading_past_the_ration_waits_and_is_counted)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bs_symbolizer_counts c;
	struct bootstrap_symbol sym;
	struct fixture f;

	start(&f, FIXTURES "symfix-pie");
	bs_symbolizer_io_budget(s, 0);
	sym = one(s, f.pid, 0, f.local);  /* its maps wait */
	cr_assert_null(sym.name);
	cr_assert_null(sym.module);
	bs_symbolizer_io_budget(s, 1000000000);
	assert_named(one(s, f.pid, 0, f.local), "symfix_local", "symfix-pie");
	bs_symbolizer_io_budget(s, 0);
	sym = one(s, f.pid, 0, f.lib);  /* the library waits */
	cr_assert_null(sym.name);
	cr_assert_str_eq(sym.module, "libsymfix.so");
	bs_symbolizer_io_budget(s, 1000000000);
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
	bs_symbolizer_counts(s, &c);
	cr_assert_eq(c.deferred, 2);
	cr_assert_eq(c.files_skipped, 0);
	bootstrap_symbolizer_free(s);
}

Test(symbolize, upid_of_another_process_is_not_resolved)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct fixture f;
	uint64_t upid;

	start(&f, FIXTURES "symfix-pie");
	upid = upid_of(f.pid);
	assert_named(one(s, f.pid, upid, f.local), "symfix_local", "symfix-pie");
	/* The same pid, started a minute earlier: an exited process whose pid was reused. */
	cr_assert_null(one(s, f.pid, upid - (6000ull << 22), f.local).name);
	stop(&f);
	bootstrap_symbolizer_free(s);
}

/* A text symbol of /proc/kallsyms and its address (0 when addresses are hidden). */
static uint64_t kallsyms_address(const char *name)
{
	char line[512], sym[256], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	cr_assert_not_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 && (type == 'T' || type == 't') &&
		    strcmp(sym, name) == 0)
			found = addr ? addr : 1;
	}
	fclose(f);
	cr_assert(found, "no %s in /proc/kallsyms", name);
	return found == 1 ? 0 : found;
}

Test(symbolize, kernel_symbols_from_kallsyms)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	uint64_t addr = kallsyms_address("schedule");
	struct bootstrap_symbol sym = one(s, 0, 0, addr + 2);

	if (!addr) { /* hidden from this user: nothing can be named */
		cr_assert_null(sym.name);
	} else {
		cr_assert_str_eq(sym.name, "schedule");
		cr_assert_eq(sym.offset, 2);
		cr_assert_str_eq(sym.module, "[kernel]");
	}
	bootstrap_symbolizer_free(s);
}

Test(symbolize, frame_text)
{
	struct bootstrap_symbol named = { "burn_cpu", 0x1a, "burn" }, module = { NULL, 0x10, "[vdso]" }, none = { 0 };
	char buf[64];

	cr_assert_eq(bootstrap_frame_format(&named, 0x1234, buf, sizeof(buf)), strlen("burn_cpu+0x1a (burn)"));
	cr_assert_str_eq(buf, "burn_cpu+0x1a (burn)");
	bootstrap_frame_format(&module, 0x7fff0010, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0x7fff0010 ([vdso]+0x10)");
	bootstrap_frame_format(&none, 0x10, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0x10");
	/* snprintf-like: the length needed, never past cap. */
	memset(buf, 'X', sizeof(buf));
	cr_assert_eq(bootstrap_frame_format(&named, 0, buf, 4), 20);
	cr_assert_eq(buf[4], 'X');
}

/* A sample of profile/cpu with frames of the fixture, serialized with and without a
 * symbolizer: named frames, and addresses with none (an event built by the caller). */
Test(symbolize, stack_fields_in_json)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_header h = { .event_index = BOOTSTRAP_EV_PROFILE_CPU };
	struct bootstrap_payload_profile_cpu p = { 0 };
	struct bootstrap_field_value v[2] = { { 0 } };
	struct bootstrap_event ev = { &h, &p, &bootstrap_events[BOOTSTRAP_EV_PROFILE_CPU], v, NULL };
	char want[256], buf[1024];
	uint64_t frames[2];
	struct fixture f;

	start(&f, FIXTURES "symfix-pie");
	h.pid = h.tid = f.pid;
	frames[0] = f.local;
	frames[1] = f.global + 4;
	v[0].data = (const char *)frames; /* an empty kernel stack: a user-mode sample */
	v[1].data = (const char *)frames;
	v[1].len = sizeof(frames);
	bootstrap_event_json(&ev, buf, sizeof(buf));
	snprintf(want, sizeof(want), "\"payload\":{\"kstack\":[],\"ustack\":[\"0x%" PRIx64 "\",\"0x%" PRIx64 "\"]}}\n",
		 frames[0], frames[1]);
	cr_assert_not_null(strstr(buf, want), "%s", buf);
	ev.symbolizer = s;
	bootstrap_event_json(&ev, buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "\"ustack\":[\"symfix_local+0x0 (symfix-pie)\",\"symfix_global+0x4 (symfix-pie)\"]"),
			   "%s", buf);
	stop(&f);
	bootstrap_symbolizer_free(s);
}

/* The same kind of sample as one line of folded stacks: the comm made one frame (';' and
 * blanks become '_'), the user frames outermost first, then the kernel's; an unnamed
 * frame "[unknown]", a lost stack "[lost]"; the length needed, like snprintf. */
Test(symbolize, folded_line)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct bootstrap_header h = { .event_index = BOOTSTRAP_EV_PROFILE_CPU, .comm = "a;b c" };
	struct bootstrap_payload_profile_cpu p = { 0 };
	struct bootstrap_field_value v[2] = { { 0 } };
	struct bootstrap_event ev = { &h, &p, &bootstrap_events[BOOTSTRAP_EV_PROFILE_CPU], v, NULL };
	const char *want = "a_b_c;symfix_global;symfix_local;[lost]";
	uint64_t frames[2];
	struct fixture f;
	char buf[256];

	start(&f, FIXTURES "symfix-pie");
	h.pid = h.tid = f.pid;
	frames[0] = f.local;
	frames[1] = f.global + 4;
	v[0].lost = true;
	v[1].data = (const char *)frames;
	v[1].len = sizeof(frames);
	cr_assert_eq(bootstrap_event_folded(&ev, buf, sizeof(buf)), strlen("a_b_c;[unknown];[unknown];[lost]"));
	cr_assert_str_eq(buf, "a_b_c;[unknown];[unknown];[lost]");
	ev.symbolizer = s;
	cr_assert_eq(bootstrap_event_folded(&ev, buf, sizeof(buf)), strlen(want));
	cr_assert_str_eq(buf, want);
	memset(buf, 'X', sizeof(buf));
	cr_assert_eq(bootstrap_event_folded(&ev, buf, 4), strlen(want));
	cr_assert_eq(buf[4], 'X');
	/* An event without a stack field has no line. */
	ev.info = &bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT];
	cr_assert_eq(bootstrap_event_folded(&ev, buf, sizeof(buf)), 0);
	stop(&f);
	bootstrap_symbolizer_free(s);
}
