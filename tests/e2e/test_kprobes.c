/* test_kprobes.c: the kernel/do_sys_openat2 kprobe and kretprobe pair of events.toml.
 * Where kprobes work, a child's known openat is asserted exactly at the entry and at
 * the return, with its latency. On a kernel without kprobes (this project's 6.18 host)
 * the pair is skipped cleanly: the other events trace, the pair attaches nowhere, one
 * warning each names the function and the reason, and strict makes the open fail.
 * Which of the two: kprobes_expected() (trace_child.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "trace_child.h"

#define NAME "bootstrap-kprobe-test"

/* What the child opened, in memory it shares with the test. */
struct opened {
	char dir[64];
	int dfd, fd;
	unsigned long long open_ns; /* the openat as the child timed it (CLOCK_MONOTONIC) */
};

static struct opened *opened;

static void make_dir(void)
{
	char path[128];
	int fd;

	opened = mmap(NULL, sizeof(*opened), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(opened, MAP_FAILED);
	snprintf(opened->dir, sizeof(opened->dir), "/tmp/bootstrap-kprobe-XXXXXX");
	cr_assert_not_null(mkdtemp(opened->dir));
	snprintf(path, sizeof(path), "%s/%s", opened->dir, NAME);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void remove_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", opened->dir, NAME);
	unlink(path);
	rmdir(opened->dir);
	munmap(opened, sizeof(*opened));
}

static int open_known(void *arg)
{
	/* On the stack: a page the child has written, so a probe can read the name. */
	char name[sizeof(NAME)];

	(void)arg;
	memcpy(name, NAME, sizeof(NAME));
	opened->dfd = open(opened->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* O_PATH: the flags reach do_sys_openat2 as given (to others the kernel adds
	 * O_LARGEFILE, whose value differs between architectures). */
	opened->open_ns = bs_clock_ns(CLOCK_MONOTONIC);
	opened->fd = openat(opened->dfd, name, O_PATH | O_CLOEXEC);
	opened->open_ns = bs_clock_ns(CLOCK_MONOTONIC) - opened->open_ns;
	return opened->dfd >= 0 && opened->fd >= 0 ? 0 : 1;
}

/* The one event of type index whose variable field var is NAME, or NULL. */
static const struct captured *named_event(const struct trace_result *r, int index, int var)
{
	const struct captured *found = NULL, *e;

	for (size_t i = 0; (e = find_event(r, index, r->child, i)); i++) {
		if (e->vars[var].data && strcmp(e->vars[var].data, NAME) == 0) {
			cr_assert_null(found, "two opens of " NAME);
			found = e;
		}
	}
	return found;
}

static void assert_values(void)
{
	struct log_lines w = { 0 };
	const struct captured *entry, *ret;
	const struct bootstrap_payload_kernel_do_sys_openat2_ret *rp;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "kernel/*", .log = &w }, open_known, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(w.n, 0, "%s", w.lines[0]);
	entry = named_event(&r, BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2, 0);
	cr_assert_not_null(entry);
	cr_assert_eq(PAYLOAD(entry, kernel_do_sys_openat2)->dfd, opened->dfd);
	cr_assert_eq(PAYLOAD(entry, kernel_do_sys_openat2)->flags, (__u64)(O_PATH | O_CLOEXEC));
	cr_assert_eq(entry->vars[0].len, strlen(NAME));
	cr_assert_eq(entry->hdr.lost_mask | entry->hdr.truncated_mask, 0);

	ret = named_event(&r, BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2_RET, 0);
	cr_assert_not_null(ret);
	rp = PAYLOAD(ret, kernel_do_sys_openat2_ret);
	cr_assert_eq(rp->ret, opened->fd);
	cr_assert_eq(rp->dfd, opened->dfd);
	cr_assert_gt(rp->elapsed_ns, 0);
	/* The kernel function runs within the system call the child timed (bpf_ktime_get_ns
	 * is CLOCK_MONOTONIC too). */
	cr_assert_leq(rp->elapsed_ns, opened->open_ns, "do_sys_openat2 took %llu ns of an openat of %llu ns",
		      (unsigned long long)rp->elapsed_ns, opened->open_ns);
	cr_assert_eq(ret->hdr.lost_mask | ret->hdr.truncated_mask, 0);
	cr_assert_eq(ret->hdr.tid, entry->hdr.tid);
	cr_assert_geq(ret->hdr.timestamp_ns, entry->hdr.timestamp_ns);
	cr_assert_eq(r.stats.events[BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2_RET].entry_missed, 0);
	trace_result_free(&r);
}

static void assert_clean_skip(void)
{
	struct log_lines w = { 0 };
	const struct captured *e;
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "kernel/*,syscalls/sys_enter_openat", .log = &w }, open_known,
		    NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	/* The other event traced the same open... */
	e = named_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, 0);
	cr_assert_not_null(e);
	cr_assert_eq(PAYLOAD(e, syscalls_sys_enter_openat)->dfd, opened->dfd);
	/* ...the pair nothing, with one warning each naming its function. */
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2, 0), 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2_RET, 0), 0);
	cr_assert_eq(r.stats.events[BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2].emitted, 0);
	cr_assert_eq(r.stats.events[BOOTSTRAP_EV_KERNEL_DO_SYS_OPENAT2_RET].emitted, 0);
	cr_assert_eq(w.n, 2);
	cr_assert_str_eq(w.lines[0], "kernel/do_sys_openat2 (kprobe do_sys_openat2): " NO_KPROBES "; skipped");
	cr_assert_str_eq(w.lines[1], "kernel/do_sys_openat2_ret (kretprobe do_sys_openat2): " NO_KPROBES "; skipped");
	trace_result_free(&r);
}

Test(kprobes, do_sys_openat2_entry_and_return, .init = make_dir, .fini = remove_dir)
{
	if (kprobes_expected())
		assert_values();
	else
		assert_clean_skip();
}

Test(kprobes, strict_needs_kprobes)
{
	struct log_lines w = { 0 };
	struct bootstrap_opts o = {
		.sz = sizeof(o), .events = "kernel/*,syscalls/sys_enter_openat", .strict = true,
		.log = log_lines_add, .log_ctx = &w,
	};
	struct bootstrap *b = NULL;
	int err = bootstrap_open(&o, &b);

	if (kprobes_expected()) {
		cr_assert_eq(err, 0, "%s", w.lines[0]);
		bootstrap_close(b);
		return;
	}
	cr_assert_eq(err, -ENOTSUP, "%s", bootstrap_strerror(err));
	cr_assert_eq(w.n, 1);
	cr_assert_str_eq(w.lines[0], "kernel/do_sys_openat2 (kprobe do_sys_openat2): " NO_KPROBES "; failing (strict)");
}
