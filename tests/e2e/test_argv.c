/* test_argv.c: a field written in many reads (execve's argv) is one contiguous span from
 * its start, wherever in its CPU's arena region it begins. A small arena and long argv
 * put many arrays across the region's end: each delivered argv is exact, or marked
 * lost/truncated (a truncated one a prefix of the real one), and delivered + counted
 * losses = the spawns. E2E_ARGV_SPAWNS sets the storm's size (the VM runs fewer). */
#include <criterion/criterion.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "trace_child.h"

#define N_ARGS 100
#define ARG_LEN 300
#define PROGRAM "/bin/true"

extern char **environ;

static uint32_t n_spawns;

/* Argument j (1..N_ARGS) of spawn i: its numbers first, then bytes derived from them. */
static void make_arg(char *buf, uint32_t i, uint32_t j)
{
	int n = snprintf(buf, ARG_LEN + 1, "%06u-%03u-", i, j);

	for (int k = n; k < ARG_LEN; k++)
		buf[k] = (char)('a' + (i * 7 + j * 13 + k) % 26);
	buf[ARG_LEN] = 0;
}

/* argv of spawn i as the kernel copies it: NUL-separated strings, each NUL included. */
static size_t expected_argv(char *out, uint32_t i)
{
	size_t len = sizeof(PROGRAM);

	memcpy(out, PROGRAM, sizeof(PROGRAM));
	for (uint32_t j = 1; j <= N_ARGS; j++) {
		make_arg(out + len, i, j);
		len += ARG_LEN + 1;
	}
	return len;
}

static int spawn_storm(void *arg)
{
	static char args[N_ARGS][ARG_LEN + 1];
	char *argv[N_ARGS + 2] = { PROGRAM };
	int status;
	pid_t pid;

	(void)arg;
	for (uint32_t i = 0; i < n_spawns; i++) {
		for (uint32_t j = 1; j <= N_ARGS; j++) {
			make_arg(args[j - 1], i, j);
			argv[j] = args[j - 1];
		}
		if (posix_spawn(&pid, PROGRAM, NULL, NULL, argv, environ) ||
		    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
	}
	return 0;
}

struct tally {
	uint64_t delivered, lost, truncated, wrong; /* lost: fields */
	char expect[sizeof(PROGRAM) + N_ARGS * (ARG_LEN + 1)];
	char seen[];  /* per spawn: delivered already */
};

static void check_exec(void *ctx, const struct bootstrap_event *ev)
{
	const struct bootstrap_field_value *argv = &ev->vars[1];
	struct tally *t = ctx;
	size_t want_len;
	uint32_t i;

	if (ev->hdr->event_index != BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_EXECVE)
		return;
	t->delivered++;
	t->lost += ev->vars[0].lost;  /* the filename */
	if (argv->lost) {
		t->lost++;
		return;
	}
	/* The spawn's number is in its first argument; a wrong one fails the comparison. */
	if (argv->len < sizeof(PROGRAM) + 6 || sscanf(argv->data + sizeof(PROGRAM), "%6u", &i) != 1 ||
	    i >= n_spawns || t->seen[i]) {
		t->wrong++;
		return;
	}
	t->seen[i] = 1;
	want_len = expected_argv(t->expect, i);
	if (argv->truncated)
		t->truncated++;
	if (argv->truncated ? argv->len > want_len : argv->len != want_len)
		t->wrong++;
	else if (memcmp(argv->data, t->expect, argv->len))
		t->wrong++;
}


Test(argv, long_argv_across_the_region_end_is_exact_or_marked, .timeout = 600)
{
	const struct bootstrap_event_stats *st;
	struct trace_opts o = {
		.events = "syscalls/sys_enter_execve",
		.arena_bytes_per_cpu = 64 << 10,
		.keep_nothing = true,
		.on_event = check_exec,
	};
	struct trace_result r;
	struct tally *t;

	n_spawns = count_from_env("E2E_ARGV_SPAWNS", 600);
	t = calloc(1, sizeof(*t) + n_spawns);
	cr_assert_not_null(t);
	o.ctx = t;
	trace_child(&o, spawn_storm, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "the spawns failed");
	st = &r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_EXECVE];
	cr_log_info("argv: %lu spawns, %lu delivered (%lu argv lost, %lu truncated), ring full %lu",
		    (unsigned long)n_spawns, t->delivered, t->lost, t->truncated, st->ringbuf_full);
	cr_assert_eq(t->wrong, 0, "%lu of %lu delivered argv arrays were wrong", t->wrong, t->delivered);
	cr_assert_eq(t->delivered + st->ringbuf_full + st->arena_busy, n_spawns);
	cr_assert_eq(st->emitted, t->delivered);
	/* Every unread field is counted in the kernel, none silently. */
	cr_assert_eq(t->lost, st->fields_lost + st->read_faults);
	cr_assert_eq(t->truncated, 0, "argv of %zu bytes is under the field's max", sizeof(t->expect));
	free(t);
}
