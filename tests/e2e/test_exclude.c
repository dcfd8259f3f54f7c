/* test_exclude.c: bootstrap_exclude_pid(): an excluded process, all its threads, makes
 * no event, whatever the pid filter says; its children are still traced; an exclusion
 * can be lifted; the set is bounded. Needs root and BTF. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_child.h"

#define OPENS 50
#define MAX_EXCLUDED 1024  /* bpf/maps.bpf.h: bs_excl_tgids */

/* Each open fails (ENOENT) but is an openat all the same. The name is copied to the
 * stack first: a literal in a page the child never touched could not be read. */
static void open_n(const char *name)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", name);
	for (int i = 0; i < OPENS; i++)
		open(buf, O_RDONLY);
}

static size_t opens_of(const struct trace_result *r, const char *name)
{
	const struct captured *e;
	size_t n = 0;

	for (size_t i = 0; (e = find_event(r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, 0, i)); i++)
		n += e->vars[0].data && strcmp(e->vars[0].data, name) == 0;
	return n;
}

static void *thread_opens(void *arg)
{
	(void)arg;
	open_n("/nonexistent-exclude-thread");
	return NULL;
}

/* The child opens from itself and from a thread, and forks a grandchild that opens. */
static int family(void *arg)
{
	pthread_t t;
	int status;
	pid_t g;

	(void)arg;
	g = fork();
	if (g == 0) {
		open_n("/nonexistent-exclude-grandchild");
		_exit(0);
	}
	open_n("/nonexistent-exclude-child");
	pthread_create(&t, NULL, thread_opens, NULL);
	pthread_join(t, NULL);
	waitpid(g, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void exclude_child(struct bootstrap *b, pid_t child)
{
	cr_assert_eq(bootstrap_exclude_pid(b, child, true), 0);
}

static void exclude_then_include(struct bootstrap *b, pid_t child)
{
	cr_assert_eq(bootstrap_exclude_pid(b, child, true), 0);
	cr_assert_eq(bootstrap_exclude_pid(b, child, false), 0);
}

Test(exclude, excluded_process_and_its_threads_make_no_event)
{
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "sys_enter_openat", .on_open = exclude_child }, family, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(count_events(&r, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, r.child), 0);
	cr_assert_eq(opens_of(&r, "/nonexistent-exclude-child"), 0);
	cr_assert_eq(opens_of(&r, "/nonexistent-exclude-thread"), 0);
	/* Exclusion is per process: the grandchild (followed by the pid filter) is traced. */
	cr_assert_eq(opens_of(&r, "/nonexistent-exclude-grandchild"), OPENS);
	trace_result_free(&r);
}

Test(exclude, lifted_exclusion_traces_again)
{
	struct trace_result r;

	trace_child(&(struct trace_opts){ .events = "sys_enter_openat", .on_open = exclude_then_include },
		    family, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(opens_of(&r, "/nonexistent-exclude-child"), OPENS);
	cr_assert_eq(opens_of(&r, "/nonexistent-exclude-thread"), OPENS);
	cr_assert_eq(opens_of(&r, "/nonexistent-exclude-grandchild"), OPENS);
	trace_result_free(&r);
}

Test(exclude, arguments_repeats_and_the_bound)
{
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "sched/sched_process_exit" };
	struct bootstrap *b;
	int err = bootstrap_open(&o, &b);

	cr_assert_eq(err, 0, "%s", bootstrap_strerror(err));
	cr_assert_eq(bootstrap_exclude_pid(NULL, 1, true), -EINVAL);
	cr_assert_eq(bootstrap_exclude_pid(b, 0, true), -EINVAL);
	cr_assert_eq(bootstrap_exclude_pid(b, -5, true), -EINVAL);
	/* Asking for the state a process is already in is not an error. */
	cr_assert_eq(bootstrap_exclude_pid(b, 100, false), 0);
	cr_assert_eq(bootstrap_exclude_pid(b, 100, true), 0);
	cr_assert_eq(bootstrap_exclude_pid(b, 100, true), 0);
	for (pid_t p = 101; p < 100 + MAX_EXCLUDED; p++)
		cr_assert_eq(bootstrap_exclude_pid(b, p, true), 0, "pid %d", p);
	cr_assert_eq(bootstrap_exclude_pid(b, 100 + MAX_EXCLUDED, true), -E2BIG);
	/* Full, re-excluding one that is in is still no error; a freed slot takes a new one. */
	cr_assert_eq(bootstrap_exclude_pid(b, 100, true), 0);
	cr_assert_eq(bootstrap_exclude_pid(b, 100, false), 0);
	cr_assert_eq(bootstrap_exclude_pid(b, 100 + MAX_EXCLUDED, true), 0);
	bootstrap_close(b);
}
