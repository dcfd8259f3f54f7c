/* test_preempt.c: arena reservations under preemption. probe_target's stress mode runs
 * on one CPU: threads call a uprobed function in a loop (uprobe handlers run
 * preemptible), one of them at a real-time priority in bursts that preempt the others,
 * while a write storm fires a tracepoint on the same CPU. Every event carries a pattern derived from its sequence number: each
 * delivered payload is exact or marked lost, delivered + counted losses = generated per
 * event, few events are dropped for the arena (arena_busy: each needs its handler
 * preempted, so no more than the stress was preempted, where a preempted owner of the
 * whole region would make every other thread's events drop meanwhile), and the last
 * call (after the storm) arrives. On a PREEMPT_RT kernel every handler is preemptible. E2E_PREEMPT_CALLS and
 * E2E_PREEMPT_WRITES set the storm's size (the emulated VM runs less). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures/stress_pattern.h"
#include "trace_child.h"

#define THREADS 4   /* and one more, real-time, in bursts */

static unsigned long n_calls, n_writes;

struct tally {
	char target[PATH_MAX + 8];  /* what the uprobe event's target field holds */
	uint64_t ticks, ticks_lost, writes, writes_lost, wrong, other_cpu;
	bool marker;
	int cpu;  /* of the first event, -1 before */
	unsigned char *seen;  /* per call (thread-major), then per write */
};

/* Counts event number n (of `total`) as delivered once; a second delivery is wrong. */
static bool first_delivery(struct tally *t, uint64_t n)
{
	if (t->seen[n])
		return false;
	t->seen[n] = 1;
	return true;
}

static void check_tick(struct tally *t, const struct bootstrap_event *ev)
{
	const struct bootstrap_payload_probe_uprobe *p = ev->payload;
	const struct bootstrap_field_value *target = &ev->vars[0];
	int64_t seq = (int64_t)p->arg0;
	uint64_t th = (uint64_t)seq >> 32, i = (uint32_t)seq;

	t->ticks++;
	if (target->lost)
		t->ticks_lost++;
	else if (target->len != strlen(t->target) || memcmp(target->data, t->target, target->len))
		t->wrong++;
	if ((int64_t)p->arg1 != stress_check(seq))
		t->wrong++;
	else if (seq == STRESS_MARKER && !t->marker)
		t->marker = true;
	else if (th > THREADS || i >= n_calls || !first_delivery(t, th * n_calls + i))
		t->wrong++;
}

static void check_write(struct tally *t, const struct bootstrap_event *ev)
{
	const struct bootstrap_field_value *content = &ev->vars[0];
	unsigned char want[STRESS_WRITE_SIZE];
	uint32_t i;

	t->writes++;
	if (content->lost) {
		t->writes_lost++;
		return;
	}
	if (content->len != STRESS_WRITE_SIZE) {
		t->wrong++;
		return;
	}
	memcpy(&i, content->data, sizeof(i));
	stress_write_fill(want, i);
	if (i >= n_writes || memcmp(content->data, want, sizeof(want)) ||
	    !first_delivery(t, (THREADS + 1) * n_calls + i))
		t->wrong++;
}

static void check_event(void *ctx, const struct bootstrap_event *ev)
{
	struct tally *t = ctx;

	if (ev->hdr->event_index == BOOTSTRAP_EV_PROBE_UPROBE)
		check_tick(t, ev);
	else if (ev->hdr->event_index == BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE)
		check_write(t, ev);
	else
		return;
	if (t->cpu < 0)
		t->cpu = ev->hdr->cpu;
	t->other_cpu += ev->hdr->cpu != t->cpu;
}

static char stress_args[3][24];

static int run_stress(void *arg)
{
	int null = open("/dev/null", O_WRONLY);

	(void)arg;
	dup2(null, STDOUT_FILENO);
	execl(probe_target_path(), "probe_target", "stress", stress_args[0], stress_args[1], stress_args[2],
	      (char *)NULL);
	return 127;
}


Test(preempt, uprobes_and_a_syscall_storm_on_one_cpu_conserve_and_stay_exact, .timeout = 600)
{
	const struct bootstrap_event_stats *ticks, *writes;
	struct bootstrap_attach attach = { .event = "probe/uprobe" };
	struct tally t = { .cpu = -1 };
	struct trace_opts o = {
		.events = "probe/uprobe,syscalls/sys_enter_write",
		.arena_bytes_per_cpu = 64 << 10,
		.keep_nothing = true,
		.attach = &attach,
		.n_attach = 1,
		.on_event = check_event,
		.ctx = &t,
	};
	struct trace_result r;

	n_calls = count_from_env("E2E_PREEMPT_CALLS", 25000);
	n_writes = count_from_env("E2E_PREEMPT_WRITES", 200000);
	snprintf(stress_args[0], sizeof(stress_args[0]), "%d", THREADS);
	snprintf(stress_args[1], sizeof(stress_args[1]), "%lu", n_calls);
	snprintf(stress_args[2], sizeof(stress_args[2]), "%lu", n_writes);
	snprintf(t.target, sizeof(t.target), "%s:tick", probe_target_path());
	attach.target = t.target;
	t.seen = calloc((THREADS + 1) * n_calls + n_writes, 1);
	cr_assert_not_null(t.seen);
	trace_child(&o, run_stress, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "the stress failed: status %#x", r.status);
	ticks = &r.stats.events[BOOTSTRAP_EV_PROBE_UPROBE];
	writes = &r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE];
	cr_log_info("cpu %d: ticks delivered %lu (target lost %lu), ring full %lu, arena busy %lu; writes "
		    "delivered %lu (content lost %lu), ring full %lu, arena busy %lu",
		    t.cpu, t.ticks, t.ticks_lost, ticks->ringbuf_full, ticks->arena_busy, t.writes, t.writes_lost,
		    writes->ringbuf_full, writes->arena_busy);
	cr_assert_eq(t.wrong, 0, "%lu delivered payloads were wrong", t.wrong);
	cr_assert_eq(t.other_cpu, 0, "the stress ran on more than one CPU");
	cr_assert_eq(r.stats.arena_lapped, 0);
	/* Delivered + counted losses = generated, per event (+ 1: the marker). */
	cr_assert_eq(t.ticks + ticks->ringbuf_full + ticks->arena_busy, (THREADS + 1) * n_calls + 1);
	cr_assert_eq(t.writes + writes->ringbuf_full + writes->arena_busy, n_writes);
	cr_assert_eq(ticks->emitted, t.ticks);
	cr_assert_eq(writes->emitted, t.writes);
	/* Each lost field is counted in the kernel, none silently. */
	cr_assert_eq(ticks->fields_lost + ticks->read_faults, t.ticks_lost);
	cr_assert_eq(writes->fields_lost + writes->read_faults, t.writes_lost);
	/* A preempted handler does not keep the others out of the arena: a drop needs its
	 * own handler to lose the reservation race, i.e. to be preempted in it. (When a
	 * preempted handler owned the region, each real-time burst that preempted one
	 * dropped all its STRESS_BURST events.) */
	cr_log_info("the stress was preempted %ld times", r.rusage.ru_nivcsw);
	cr_assert_leq(ticks->arena_busy + writes->arena_busy, (uint64_t)r.rusage.ru_nivcsw);
	cr_assert_lt(ticks->arena_busy + writes->arena_busy, t.ticks + t.writes);
	/* Events flow after the storm: the last call arrived. */
	cr_assert(t.marker, "the call after the storm was not delivered");
	free(t.seen);
}
