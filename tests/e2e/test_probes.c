/* test_probes.c: the generic probe/KIND events given targets at run time (opts.attach):
 * kprobes (captured with exact values on a kernel that has them, one warning per event
 * and a strict failure on one that does not), uprobes on the probe_target fixture,
 * missing uprobe targets (one warning each, or a strict failure), and a run-time
 * tracepoint's raw fields. Needs root and BTF. Whether this kernel must have kprobes:
 * kprobes_expected() (trace_child.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_child.h"

#define DIR_FD 200  /* the dfd of the child's known openat */
#define OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* One known openat: dfd DIR_FD (the root directory), "." , OPEN_FLAGS. Exits with the
 * fd it returned. */
static int open_known(void *arg)
{
	char dot[2] = ".";  /* on the stack: a page the child has touched */
	int d = open("/", O_RDONLY | O_DIRECTORY);

	(void)arg;
	if (d < 0 || dup2(d, DIR_FD) != DIR_FD)
		return 255;
	return openat(DIR_FD, dot, OPEN_FLAGS);
}

static int exec_fixture(void *arg)
{
	int null = open("/dev/null", O_WRONLY);

	dup2(null, STDOUT_FILENO);
	execl(arg, arg, (char *)NULL);
	return 127;
}

/* The n-th event of `index` whose (32-bit) argument `arg` is `value`, or NULL. */
static const struct captured *with_arg(const struct trace_result *r, int index, size_t arg_offset, int value,
				       size_t nth)
{
	const struct captured *e;

	for (size_t i = 0; (e = find_event(r, index, r->child, i)); i++) {
		__u64 v;

		memcpy(&v, e->payload + arg_offset, sizeof(v));
		if ((int)(__u32)v == value && nth-- == 0)
			return e;
	}
	return NULL;
}

#define KPROBE_ARG0 offsetof(struct bootstrap_payload_probe_kprobe, arg0)
#define KRETPROBE_ARG0 offsetof(struct bootstrap_payload_probe_kretprobe, arg0)
#define TP_ARG0 offsetof(struct bootstrap_payload_probe_tracepoint, arg0)

static const struct bootstrap_attach kprobe_pair[] = {
	{ .event = "probe/kprobe", .target = "do_sys_openat2" },
	{ .event = "probe/kretprobe", .target = "do_sys_openat2" },
};

static void assert_kprobe_pair_captured(const struct trace_result *r, int fd)
{
	const struct captured *entry = with_arg(r, BOOTSTRAP_EV_PROBE_KPROBE, KPROBE_ARG0, DIR_FD, 0);
	const struct captured *ret = with_arg(r, BOOTSTRAP_EV_PROBE_KRETPROBE, KRETPROBE_ARG0, DIR_FD, 0);

	cr_assert_not_null(entry, "no kprobe event with dfd %d", DIR_FD);
	cr_assert_null(with_arg(r, BOOTSTRAP_EV_PROBE_KPROBE, KPROBE_ARG0, DIR_FD, 1));
	cr_assert_str_eq(entry->vars[0].data, "do_sys_openat2");
	cr_assert_not_null(ret, "no kretprobe event with dfd %d", DIR_FD);
	cr_assert_null(with_arg(r, BOOTSTRAP_EV_PROBE_KRETPROBE, KRETPROBE_ARG0, DIR_FD, 1));
	cr_assert_str_eq(ret->vars[0].data, "do_sys_openat2");
	cr_assert_eq(PAYLOAD(ret, probe_kretprobe)->ret, fd);
	/* The filename pointer and the open_how pointer, as the entry saw them. */
	cr_assert_eq(PAYLOAD(ret, probe_kretprobe)->arg1, PAYLOAD(entry, probe_kprobe)->arg1);
	cr_assert_eq(PAYLOAD(ret, probe_kretprobe)->arg2, PAYLOAD(entry, probe_kprobe)->arg2);
	cr_assert_gt(PAYLOAD(ret, probe_kretprobe)->elapsed_ns, 0);
	cr_assert_eq(ret->hdr.lost_mask, 0);
}

Test(probes, kprobe_pair_captured_or_one_warning_per_event)
{
	struct log_lines log = { 0 };
	struct trace_result r;
	const struct captured *open_;

	trace_child(&(struct trace_opts){ .events = "syscalls/sys_enter_openat", .attach = kprobe_pair,
					  .n_attach = 2, .log = &log },
		    open_known, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) < 255);
	if (kprobes_expected()) {
		cr_assert_eq(log.n, 0, "unexpected warning: %s", log.lines[0]);
		assert_kprobe_pair_captured(&r, WEXITSTATUS(r.status));
	} else {
		cr_assert_eq(log.n, 2);
		cr_assert_str_eq(log.lines[0], "probe/kprobe (kprobe do_sys_openat2): " NO_KPROBES "; skipped");
		cr_assert_str_eq(log.lines[1], "probe/kretprobe (kretprobe do_sys_openat2): " NO_KPROBES "; skipped");
		cr_assert_eq(count_events(&r, BOOTSTRAP_EV_PROBE_KPROBE, 0), 0);
	}
	/* The other selected event flows either way. */
	for (size_t i = 0; (open_ = find_event(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child, i)); i++)
		if (PAYLOAD(open_, syscalls_sys_enter_openat)->dfd == DIR_FD)
			break;
	cr_assert_not_null(open_);
	cr_assert_str_eq(open_->vars[0].data, ".");
	cr_assert_eq(PAYLOAD(open_, syscalls_sys_enter_openat)->flags, OPEN_FLAGS);
	trace_result_free(&r);
}

/* bootstrap_open() alone; returns its error, with the warnings in log. */
static int open_only(const struct bootstrap_opts *o, struct log_lines *log)
{
	struct bootstrap_opts bo = *o;
	struct bootstrap *b;
	int err;

	bo.sz = sizeof(bo);
	bo.log = log_lines_add;
	bo.log_ctx = log;
	err = bootstrap_open(&bo, &b);
	bootstrap_close(b);
	return err;
}

Test(probes, strict_fails_on_a_kernel_without_kprobes)
{
	struct log_lines log = { 0 };
	int err = open_only(&(struct bootstrap_opts){ .events = "syscalls/sys_enter_openat", .attach = kprobe_pair,
						       .n_attach = 2, .strict = true },
			    &log);

	if (kprobes_expected()) {
		cr_assert_eq(err, 0, "%s", log.lines[0]);
		cr_assert_eq(log.n, 0);
	} else {
		cr_assert_eq(err, -ENOTSUP);
		cr_assert_eq(log.n, 1);
		cr_assert_str_eq(log.lines[0], "probe/kprobe (kprobe do_sys_openat2): " NO_KPROBES "; failing (strict)");
	}
}

/* Without kprobes, every target of an event is named in its one warning. */
Test(probes, no_kprobes_is_one_warning_for_many_functions)
{
	static const struct bootstrap_attach many[] = {
		{ .event = "probe/kprobe", .target = "do_sys_openat2" },
		{ .event = "probe/kprobe", .target = "vfs_read" },
		{ .event = "probe/kprobe", .target = "vfs_write" },
	};
	struct log_lines log = { 0 };
	int err;

	err = open_only(&(struct bootstrap_opts){ .events = "syscalls/sys_enter_openat", .attach = many, .n_attach = 3 },
			&log);
	cr_assert_eq(err, 0);
	if (kprobes_expected()) {
		cr_assert_eq(log.n, 0, "%s", log.lines[0]);
	} else {
		cr_assert_eq(log.n, 1);
		cr_assert_str_eq(log.lines[0], "probe/kprobe (kprobe do_sys_openat2, vfs_read, vfs_write): " NO_KPROBES
				 "; skipped");
	}
}

/* A uprobe on a binary that does not exist, and one on a symbol the fixture lacks. */
static void missing_uprobes(struct bootstrap_attach a[2], char *no_symbol, size_t cap)
{
	snprintf(no_symbol, cap, "%s:no_such_function", probe_target_path());
	a[0] = (struct bootstrap_attach){ .event = "probe/uprobe", .target = "/nonexistent/probe_target:add_numbers" };
	a[1] = (struct bootstrap_attach){ .event = "probe/uprobe", .target = no_symbol };
}

Test(probes, missing_uprobe_targets_are_skipped_with_one_warning_each)
{
	struct bootstrap_attach a[3];
	char no_symbol[PATH_MAX + 32], add_numbers[PATH_MAX + 32], want[2][PATH_MAX * 2 + 128];
	struct log_lines log = { 0 };
	static const long sums[] = { 42, 993, 5000100000 };
	struct trace_result r;

	missing_uprobes(a, no_symbol, sizeof(no_symbol));
	snprintf(add_numbers, sizeof(add_numbers), "%s:add_numbers", probe_target_path());
	a[2] = (struct bootstrap_attach){ .event = "probe/uretprobe", .target = add_numbers };
	trace_child(&(struct trace_opts){ .events = "sched/sched_process_exec", .attach = a, .n_attach = 3, .log = &log },
		    exec_fixture, (void *)probe_target_path(), &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	snprintf(want[0], sizeof(want[0]), "probe/uprobe (uprobe /nonexistent/probe_target:add_numbers): "
		 "binary /nonexistent/probe_target does not exist; skipped");
	snprintf(want[1], sizeof(want[1]), "probe/uprobe (uprobe %s): %s has no function symbol no_such_function; skipped",
		 no_symbol, probe_target_path());
	cr_assert_eq(log.n, 2);
	cr_assert_str_eq(log.lines[0], want[0]);
	cr_assert_str_eq(log.lines[1], want[1]);
	/* The target that exists is traced, exactly. */
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_PROBE_UPROBE, 0), 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_PROBE_URETPROBE, r.child), 3);
	for (size_t i = 0; i < 3; i++) {
		const struct captured *e = find_event(&r, BOOTSTRAP_EV_PROBE_URETPROBE, r.child, i);

		cr_assert_str_eq(e->vars[0].data, add_numbers);
		cr_assert_eq(PAYLOAD(e, probe_uretprobe)->ret, sums[i]);
	}
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SCHED_SCHED_PROCESS_EXEC, r.child), 1);
	trace_result_free(&r);
}

Test(probes, strict_fails_on_a_missing_uprobe_target)
{
	struct bootstrap_attach a[2];
	char no_symbol[PATH_MAX + 32], want[PATH_MAX * 2 + 128];

	missing_uprobes(a, no_symbol, sizeof(no_symbol));
	for (size_t k = 0; k < 2; k++) {
		struct log_lines log = { 0 };
		int err = open_only(&(struct bootstrap_opts){ .events = "sched/sched_process_exec", .attach = &a[k],
							       .n_attach = 1, .strict = true },
				    &log);

		cr_assert_eq(err, -ENOENT);
		cr_assert_eq(log.n, 1);
		if (k == 0)
			snprintf(want, sizeof(want), "probe/uprobe (uprobe %s): binary /nonexistent/probe_target does not "
				 "exist; failing (strict)", a[k].target);
		else
			snprintf(want, sizeof(want), "probe/uprobe (uprobe %s): %s has no function symbol no_such_function; "
				 "failing (strict)", a[k].target, probe_target_path());
		cr_assert_str_eq(log.lines[0], want);
	}
}

/* A tracepoint given at run time: its record's fields after the common ones, here
 * sys_enter_openat's dfd, filename pointer, flags and mode. */
Test(probes, runtime_tracepoint_reads_the_record_fields)
{
	static const struct bootstrap_attach tp[] = { { .event = "probe/tracepoint", .target = "syscalls/sys_enter_openat" } };
	struct trace_result r;
	const struct captured *e;

	trace_child(&(struct trace_opts){ .events = "probe/tracepoint", .attach = tp, .n_attach = 1 }, open_known, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) < 255);
	e = with_arg(&r, BOOTSTRAP_EV_PROBE_TRACEPOINT, TP_ARG0, DIR_FD, 0);
	cr_assert_not_null(e);
	cr_assert_null(with_arg(&r, BOOTSTRAP_EV_PROBE_TRACEPOINT, TP_ARG0, DIR_FD, 1));
	cr_assert_str_eq(e->vars[0].data, "syscalls/sys_enter_openat");
	cr_assert_neq(PAYLOAD(e, probe_tracepoint)->arg1, 0);
	cr_assert_eq(PAYLOAD(e, probe_tracepoint)->arg2, OPEN_FLAGS);
	cr_assert_eq(PAYLOAD(e, probe_tracepoint)->arg3, 0);
	cr_assert_eq(PAYLOAD(e, probe_tracepoint)->arg4, 0);
	cr_assert_eq(PAYLOAD(e, probe_tracepoint)->arg5, 0);
	/* The open of "/" before it: AT_FDCWD as the syscall got it, a 32-bit int. */
	cr_assert_not_null(with_arg(&r, BOOTSTRAP_EV_PROBE_TRACEPOINT, TP_ARG0, AT_FDCWD, 0));
	trace_result_free(&r);
}
