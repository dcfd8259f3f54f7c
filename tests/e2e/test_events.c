/* test_events.c: every event of events.toml, triggered by a traced child doing exactly
 * known things, with the exact captured values asserted. Needs root and BTF. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_child.h"

#define HOSTILE_LEN 4000

/* A 4000-byte path with quotes, a newline, 0x01 and 0xff in it (the open fails: ENOENT). */
static void hostile_name(char *buf)
{
	static const char head[] = "/nonexistent-dir/q\"uo'te\nnl\x01" "ctl\xff" "ff-";

	memcpy(buf, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1; i < HOSTILE_LEN; i++)
		buf[i] = 'a' + i % 26;
	buf[HOSTILE_LEN] = 0;
}

static int open_hostile(void *arg)
{
	char name[HOSTILE_LEN + 1];

	(void)arg;
	prctl(PR_SET_NAME, "e2e-open");
	hostile_name(name);
	return open(name, O_RDONLY | O_CLOEXEC | O_CREAT, 0640) == -1 && errno == ENOENT ? 0 : 1;
}

Test(events, openat_hostile_filename_exact)
{
	char name[HOSTILE_LEN + 1];
	struct trace_result r;
	const struct captured *enter, *exit_;

	hostile_name(name);
	trace_child(&(struct trace_opts){ .events = "syscalls/sys_*_openat" }, open_hostile, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child), 1);
	enter = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child, 0);
	cr_assert_eq(PAYLOAD(enter, syscalls_sys_enter_openat)->dfd, AT_FDCWD);
	cr_assert_eq(PAYLOAD(enter, syscalls_sys_enter_openat)->flags, O_RDONLY | O_CLOEXEC | O_CREAT);
	cr_assert_eq(PAYLOAD(enter, syscalls_sys_enter_openat)->mode, 0640);
	cr_assert_eq(enter->vars[0].len, HOSTILE_LEN);
	cr_assert(!enter->vars[0].truncated && !enter->vars[0].lost);
	cr_assert_arr_eq(enter->vars[0].data, name, HOSTILE_LEN);
	cr_assert_eq(enter->hdr.pid, (__u32)r.child);
	cr_assert_eq(enter->hdr.tid, (__u32)r.child);
	cr_assert_eq(enter->hdr.ppid, (__u32)getpid());
	cr_assert_str_eq(enter->hdr.comm, "e2e-open");
	cr_assert_eq(enter->hdr.uid, getuid());
	exit_ = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_OPENAT, r.child, 0);
	cr_assert_not_null(exit_);
	cr_assert_eq(PAYLOAD(exit_, syscalls_sys_exit_openat)->ret, -ENOENT);
	cr_assert(exit_->hdr.timestamp_ns >= enter->hdr.timestamp_ns);
	/* The JSON escapes it: the newline and 0x01 as escapes, 0xff as U+FFFD. */
	cr_assert_not_null(strstr(enter->json, "q\\\"uo'te\\nnl\\u0001ctl\xef\xbf\xbd" "ff-"));
	trace_result_free(&r);
}

static int open_empty(void *arg)
{
	char name[] = "";  /* on the stack: a page already present */

	(void)arg;
	return open(name, O_RDONLY) == -1 && errno == ENOENT ? 0 : 1;
}

/* An empty string is a string, not a lost field (6.1 reads it as length 0, not 1). */
Test(events, empty_filename_is_empty_not_lost)
{
	const struct captured *e;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "syscalls/sys_enter_openat" }, open_empty, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child), 1);
	e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child, 0);
	cr_assert(!e->vars[0].lost && !e->vars[0].truncated);
	cr_assert_eq(e->vars[0].len, 0);
	cr_assert_str_eq(e->vars[0].data, "");
	cr_assert_not_null(strstr(e->json, "\"filename\":\"\""));
	cr_assert_eq(r.stats.total.read_faults, 0);
	trace_result_free(&r);
}

#define N_ARGS 300

static int exec_many_args(void *arg)
{
	static char bufs[N_ARGS][8];
	char *argv[N_ARGS + 2];

	(void)arg;
	argv[0] = "/bin/true";
	for (int i = 0; i < N_ARGS; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "a%03d", i);
		argv[i + 1] = bufs[i];
	}
	argv[N_ARGS + 1] = NULL;
	execv(argv[0], argv);
	return 127;
}

/* The NUL-separated block argv[0]..argv[N_ARGS] (each "a%03d" is 5 bytes with NUL). */
static size_t expected_argv(char *out, int n_args)
{
	size_t len = sizeof("/bin/true");

	memcpy(out, "/bin/true", len);
	for (int i = 0; i < n_args; i++)
		len += sprintf(out + len, "a%03d", i) + 1;
	return len;
}

Test(events, exec_argv_300_entries)
{
	char want[16 + N_ARGS * 5];
	size_t want_len = expected_argv(want, N_ARGS);
	const struct captured *exec, *enter;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "sched/sched_process_exec,syscalls/sys_enter_execve" },
		    exec_many_args, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	exec = find_event(&r, BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXEC, r.child, 0);
	cr_assert_not_null(exec);
	cr_assert_eq(exec->vars[0].len, strlen("/bin/true"));
	cr_assert_str_eq(exec->vars[0].data, "/bin/true");
	/* mm->arg_start..arg_end: all 301 strings, within the 4096-byte cap. */
	cr_assert_eq(exec->vars[1].len, want_len);
	cr_assert(!exec->vars[1].truncated);
	cr_assert_arr_eq(exec->vars[1].data, want, want_len);
	cr_assert_str_eq(exec->hdr.comm, "true");

	/* execve's argv pointer array: capped at max_items = 128 strings, so truncated. */
	enter = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_EXECVE, r.child, 0);
	cr_assert_not_null(enter);
	cr_assert_str_eq(enter->vars[0].data, "/bin/true");
	want_len = expected_argv(want, 127);
	cr_assert_eq(enter->vars[1].len, want_len);
	cr_assert_arr_eq(enter->vars[1].data, want, want_len);
	cr_assert(enter->vars[1].truncated);
	cr_assert_not_null(strstr(enter->json, "\"truncated\":[\"argv\"]"));
	trace_result_free(&r);
}

#define BIG 32768

static void pattern(unsigned char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 31 + seed + (i >> 8));
}

/* Write content: 32 KiB to stdout, 1 byte to stderr, bytes with NULs, and a 10-byte
 * buffer that ends 3 bytes before an unmapped page. */
static int writes(void *arg)
{
	static unsigned char big[BIG];
	long page = sysconf(_SC_PAGESIZE);
	int null = open("/dev/null", O_WRONLY);
	char *map;

	(void)arg;
	dup2(null, 1);
	dup2(null, 2);
	pattern(big, BIG, 7);
	if (write(1, big, BIG) != BIG || write(2, "!", 1) != 1 || write(1, "a\0b\0\0c", 6) != 6)
		return 1;
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(map + page, page);
	memcpy(map + page - 13, "0123456789", 10);
	return write(1, map + page - 13, 10) == 10 && write(null, big, 100) == 100 ? 0 : 1;
}

Test(events, write_content_exact)
{
	unsigned char big[BIG];
	const struct captured *w;
	struct trace_result r;

	pattern(big, BIG, 7);
	trace_child(&(struct trace_opts){ .events = "syscalls/sys_*_write" }, writes, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE, r.child), 5);

	w = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE, r.child, 0);
	cr_assert_eq(PAYLOAD(w, syscalls_sys_enter_write)->fd, 1);
	cr_assert_eq(PAYLOAD(w, syscalls_sys_enter_write)->count, BIG);
	cr_assert_eq(w->vars[0].len, BIG);
	cr_assert(!w->vars[0].truncated && !w->vars[0].lost);
	cr_assert_arr_eq(w->vars[0].data, big, BIG);

	w = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE, r.child, 1);
	cr_assert_eq(PAYLOAD(w, syscalls_sys_enter_write)->fd, 2);
	cr_assert_eq(w->vars[0].len, 1);
	cr_assert_eq(w->vars[0].data[0], '!');

	w = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE, r.child, 2);
	cr_assert_eq(w->vars[0].len, 6);
	cr_assert_arr_eq(w->vars[0].data, "a\0b\0\0c", 6);
	cr_assert_not_null(strstr(w->json, "\"content\":\"a\\u0000b\\u0000\\u0000c\""));

	w = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE, r.child, 3);
	cr_assert_eq(w->vars[0].len, 10);
	cr_assert_arr_eq(w->vars[0].data, "0123456789", 10);
	cr_assert(!w->vars[0].lost);

	/* Not stdout/stderr: the `when` is false, the content is empty, not lost. */
	w = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE, r.child, 4);
	cr_assert_eq(PAYLOAD(w, syscalls_sys_enter_write)->count, 100);
	cr_assert_eq(w->vars[0].len, 0);
	cr_assert(!w->vars[0].lost);

	w = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_WRITE, r.child, 0);
	cr_assert_eq(PAYLOAD(w, syscalls_sys_exit_write)->ret, BIG);
	cr_assert_eq(r.stats.total.read_faults, 0);
	trace_result_free(&r);
}

static int exit_three(void *arg)
{
	(void)arg;
	return 3;
}

Test(events, exit_code_and_signal)
{
	const struct captured *e;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "sched/sched_process_exit" }, exit_three, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3);
	e = find_event(&r, BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXIT, r.child, 0);
	cr_assert_not_null(e);
	cr_assert_eq(PAYLOAD(e, sched_sched_process_exit)->exit_code, 3);
	cr_assert_eq(PAYLOAD(e, sched_sched_process_exit)->signal, 0);
	trace_result_free(&r);
}

static int killed(void *arg)
{
	(void)arg;
	raise(SIGKILL);
	return 0;
}

Test(events, exit_by_signal)
{
	const struct captured *e;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "sched/sched_process_exit" }, killed, NULL, &r);
	cr_assert(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	e = find_event(&r, BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXIT, r.child, 0);
	cr_assert_not_null(e);
	cr_assert_eq(PAYLOAD(e, sched_sched_process_exit)->exit_code, 0);
	cr_assert_eq(PAYLOAD(e, sched_sched_process_exit)->signal, SIGKILL);
	trace_result_free(&r);
}

static void *open_in_thread(void *arg)
{
	char name[] = "/nonexistent-from-thread"; /* on the stack: a page already present */

	(void)arg;
	open(name, O_RDONLY);
	return NULL;
}

static int two_threads(void *arg)
{
	pthread_t t;

	(void)arg;
	pthread_create(&t, NULL, open_in_thread, NULL);
	pthread_join(t, NULL);
	return 0;
}

Test(events, second_thread_captured)
{
	const struct captured *e;
	struct trace_result r;
	size_t i;

	trace_child(&(struct trace_opts){ .events = "sys_enter_openat" }, two_threads, NULL, &r);
	for (i = 0; (e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child, i)); i++) {
		if (e->vars[0].data && strcmp(e->vars[0].data, "/nonexistent-from-thread") == 0)
			break;
	}
	cr_assert_not_null(e, "the second thread's openat was not captured");
	cr_assert_eq(e->hdr.pid, (__u32)r.child);
	cr_assert_neq(e->hdr.tid, (__u32)r.child);
	trace_result_free(&r);
}

static int fork_grandchild(void *arg)
{
	int status;
	pid_t g;

	(void)arg;
	g = fork();
	if (g == 0) {
		char buf[4], name[] = "/etc/passwd"; /* on the stack: see untouched_page test */
		int fd = open(name, O_RDONLY);

		_exit(read(fd, buf, sizeof(buf)) == sizeof(buf) ? 0 : 1);
	}
	waitpid(g, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

Test(events, fork_follows_children_and_reads)
{
	const struct captured *fork_ev, *e;
	struct trace_result r;
	pid_t g;

	trace_child(&(struct trace_opts){ .events = "sched/sched_process_fork,syscalls/*" }, fork_grandchild, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	fork_ev = find_event(&r, BOOTSTRAP_EV_SCHED_SCHED_PROCESS_FORK, r.child, 0);
	cr_assert_not_null(fork_ev);
	cr_assert_eq(PAYLOAD(fork_ev, sched_sched_process_fork)->parent_pid, r.child);
	g = PAYLOAD(fork_ev, sched_sched_process_fork)->child_pid;
	e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, g, 0);
	cr_assert_not_null(e, "the grandchild's open was not traced");
	cr_assert_str_eq(e->vars[0].data, "/etc/passwd");
	cr_assert_eq(e->hdr.ppid, (__u32)r.child);
	e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_READ, g, 0);
	cr_assert_not_null(e);
	cr_assert_eq(PAYLOAD(e, syscalls_sys_enter_read)->count, 4);
	e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_READ, g, 0);
	cr_assert_eq(PAYLOAD(e, syscalls_sys_exit_read)->ret, 4);
	trace_result_free(&r);
}

static int ignore(void *ctx, const struct bootstrap_event *ev)
{
	(void)ctx;
	(void)ev;
	return 0;
}

/* Reclaim and OOM cannot be triggered safely here: their programs must load and attach. */
Test(events, reclaim_and_oom_attach)
{
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "vmscan/*,oom/*", .strict = true };
	struct bootstrap_stats st = { .sz = sizeof(st) };
	struct bootstrap *b;
	int err = bootstrap_open(&o, &b);

	cr_assert_eq(err, 0, "%s", bootstrap_strerror(err));
	cr_assert_geq(bootstrap_poll(b, 0, ignore, NULL), 0);
	cr_assert_eq(bootstrap_stats(b, &st), 0);
	bootstrap_close(b);
}

Test(events, unknown_event_pattern_is_an_error)
{
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "nosuch/*" };
	struct bootstrap *b;

	cr_assert_eq(bootstrap_open(&o, &b), -EINVAL);
	cr_assert_null(b);
}

/* A string in a page this process never touched cannot be read at syscall entry (BPF
 * may not fault pages in): the event is completed at the syscall's exit, where the
 * kernel has faulted the page in, and goes out filled with the entry's timestamp. */
static int open_from_untouched_page(void *arg)
{
	int fd = open(arg, O_RDONLY);
	char *name = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);

	close(fd);
	return open(name, O_RDONLY) >= 0 ? 0 : 1;
}

Test(events, untouched_page_is_read_again_at_exit)
{
	char path[] = "/tmp/e2e-name-XXXXXX";
	const struct captured *e, *exit_ev;
	struct trace_result r;
	int fd = mkstemp(path);

	cr_assert_eq(write(fd, "/etc/passwd", sizeof("/etc/passwd")), (ssize_t)sizeof("/etc/passwd"));
	close(fd);
	trace_child(&(struct trace_opts){ .events = "syscalls/sys_*_openat" }, open_from_untouched_page, path, &r);
	unlink(path);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child), 2);
	e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child, 1);
	cr_assert_not(e->vars[0].lost);
	cr_assert_str_eq(e->vars[0].data, "/etc/passwd");
	cr_assert_not_null(strstr(e->json, "\"filename\":\"/etc/passwd\""));
	cr_assert_null(strstr(e->json, "\"lost\""));
	exit_ev = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_OPENAT, r.child, 1);
	cr_assert_geq(PAYLOAD(exit_ev, syscalls_sys_exit_openat)->ret, 0);
	/* The entry's time, not the exit's: it still sorts before its exit. */
	cr_assert_lt(e->hdr.timestamp_ns, exit_ev->hdr.timestamp_ns);
	cr_assert_eq(r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].read_faults, 0);
	cr_assert_geq(r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].fault_retries, 1);
	trace_result_free(&r);
}

/* A fresh child execs with string literals it has not touched (fork copies no page table
 * entries of a file mapping it never wrote): the entry's reads fault and, at the exit,
 * the memory is the new image's. The strings come from there (the path from AT_EXECFN,
 * argv from the new stack), marked as read at the exit. */
static int exec_literals_in_child(void *arg)
{
	int status;
	pid_t pid = fork();

	(void)arg;
	if (pid == 0) {
		execv("/bin/true", (char *const[]){ "true", "literal argument", NULL });
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

Test(events, exec_strings_come_from_the_new_image_after_a_fault)
{
	static const char argv[] = "true\0literal argument";
	const struct captured *e, *exec;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "syscalls/sys_enter_execve,sched/sched_process_exec" },
		    exec_literals_in_child, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(r.n, 2);
	exec = find_event(&r, BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXEC, 0, 0);
	e = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_EXECVE, exec->hdr.pid, 0);
	cr_assert_not_null(e);
	cr_assert_eq(exec->hdr.ppid, r.child);
	for (int i = 0; i < 2; i++) {
		const struct captured *c = i ? exec : e;

		cr_assert_str_eq(c->vars[0].data, "/bin/true");
		cr_assert_eq(c->vars[1].len, sizeof(argv));
		cr_assert_arr_eq(c->vars[1].data, argv, sizeof(argv));
		cr_assert_eq(c->hdr.lost_mask | c->hdr.truncated_mask, 0);
	}
	cr_assert_eq(e->hdr.reread_mask, 0x3);
	cr_assert_not_null(strstr(e->json, "},\"reread\":[\"filename\",\"argv\"]}"));
	cr_assert_eq(exec->hdr.reread_mask, 0);
	cr_assert_eq(r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_EXECVE].fault_retries, 1);
	cr_assert_eq(r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_EXECVE].read_faults, 0);
	trace_result_free(&r);
}

static int count_opens(void *ctx, const struct bootstrap_event *ev)
{
	(*(int *)ctx) += ev->hdr->event_index == BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT;
	return 0;
}

/* bootstrap_stop(): what was produced before it is still delivered, then -ECANCELED. */
Test(events, stop_delivers_pending_then_cancels)
{
	struct bootstrap_stats st = { .sz = sizeof(st) };
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "sys_enter_openat", .n_pids = 1 };
	struct bootstrap *b;
	int go[2], status, seen = 0;
	pid_t child;
	char c;

	cr_assert_eq(pipe(go), 0);
	child = fork();
	if (child == 0) {
		char name[] = "/nonexistent-stop";

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < 1000; i++)
			open(name, O_RDONLY);
		_exit(0);
	}
	o.pids = &child;
	cr_assert_eq(bootstrap_open(&o, &b), 0);
	cr_assert_eq(write(go[1], "x", 1), 1);
	waitpid(child, &status, 0);
	bootstrap_stop(b);
	cr_assert_eq(bootstrap_poll(b, -1, count_opens, &seen), -ECANCELED);
	cr_assert_eq(seen, 1000);
	cr_assert_eq(bootstrap_poll(b, -1, count_opens, &seen), -ECANCELED);
	cr_assert_eq(seen, 1000);
	cr_assert_eq(bootstrap_stats(b, &st), 0);
	cr_assert_eq(st.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].emitted, 1000);
	cr_assert_eq(st.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT].delivered, 1000);
	bootstrap_close(b);
}

static bool debugfs_unmounted;

static void remount_debugfs(void)
{
	if (debugfs_unmounted)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

/* A fresh boot may have no tracefs mounted: opening mounts it and tracing works. */
Test(events, mounts_tracefs_when_missing, .fini = remount_debugfs)
{
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "sys_enter_openat" };
	struct stat st;
	struct bootstrap *b;

	/* Mounted first (an error when it already is), so the unmount below is real. */
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	/* A mounted debugfs would mount tracefs again at its tracing folder as soon as
	 * anything looks there (an automount): debugfs goes too, until the test ends. */
	debugfs_unmounted = umount2("/sys/kernel/debug", MNT_DETACH) == 0;
	if (debugfs_unmounted)
		cr_log_info("unmounted debugfs too");
	cr_assert_eq(umount2("/sys/kernel/tracing", MNT_DETACH), 0, "umount: %s", strerror(errno));
	cr_assert_neq(stat("/sys/kernel/tracing/events", &st), 0);
	cr_assert_eq(bootstrap_open(&o, &b), 0);
	cr_assert_eq(stat("/sys/kernel/tracing/events", &st), 0, "tracefs was not mounted again");
	bootstrap_close(b);
}
