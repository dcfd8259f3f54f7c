/* test_symbolize.c: the symbolizer without BPF, on a known fixture (tests/fixtures/
 * symbolize): its functions named in a PIE, a non-PIE executable, a shared library and a
 * stripped PIE with separate debuginfo; return addresses; a process that exec'd, one
 * that exited, a pid whose upid is another process; kernel symbols; the frame text and
 * a stack field in an NDJSON line. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"

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

static void assert_fixture_named(const char *binary, const char *module)
{
	struct bootstrap_symbolizer *s = bootstrap_symbolizer_new();
	struct fixture f;

	start(&f, binary);
	assert_named(one(s, f.pid, 0, f.local), "symfix_local", module);
	assert_named(one(s, f.pid, 0, f.global), "symfix_global", module);
	assert_named(one(s, f.pid, 0, f.lib), "symfix_lib_local", "libsymfix.so");
	stop(&f);
	bootstrap_symbolizer_free(s);
}

Test(symbolize, pie_executable_and_library)
{
	assert_fixture_named(FIXTURES "symfix-pie", "symfix-pie");
}

Test(symbolize, non_pie_executable)
{
	assert_fixture_named(FIXTURES "symfix-nopie", "symfix-nopie");
}

Test(symbolize, stripped_executable_with_debuginfo)
{
	assert_fixture_named(FIXTURES "symfix-stripped", "symfix-stripped");
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
	struct bootstrap_symbol named = { "burn_cpu", 0x1a, "burn" }, module = { NULL, 0, "[vdso]" }, none = { 0 };
	char buf[64];

	cr_assert_eq(bootstrap_frame_format(&named, 0x1234, buf, sizeof(buf)), strlen("burn_cpu+0x1a (burn)"));
	cr_assert_str_eq(buf, "burn_cpu+0x1a (burn)");
	bootstrap_frame_format(&module, 0x7fff0010, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0x7fff0010 ([vdso])");
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
