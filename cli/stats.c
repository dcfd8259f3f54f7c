/* stats.c: --stats output. Counters come from bootstrap_stats(); delivered + the loss
 * counters account for every event the kernel saw, so each of them is shown, zero or not. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "stats.h"

static double now(void)
{
	return bs_clock_ns(CLOCK_MONOTONIC) / 1e9;
}

static int read_stats(struct bootstrap *b, struct bootstrap_stats *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->sz = sizeof(*s);
	err = bootstrap_stats(b, s);
	if (err)
		fprintf(stderr, "example: reading the counters failed: %s\n", bootstrap_strerror(err));
	return err;
}

void stats_start(struct stats *r)
{
	memset(r, 0, sizeof(*r));
	r->started = now();
}

/* Every counter of the list, so a new one shows up in each report by itself. */
static const char *const counter_names[] = {
#define NAME(name, what) #name,
	BOOTSTRAP_KCOUNTERS(NAME)
#undef NAME
};
#define N_COUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

static void counter_values(const struct bootstrap_event_stats *e, uint64_t out[N_COUNTERS])
{
	size_t i = 0;

#define VALUE(name, what) out[i++] = e->name;
	BOOTSTRAP_KCOUNTERS(VALUE)
#undef VALUE
}

void stats_tick(struct stats *r, struct bootstrap *b)
{
	uint64_t now_v[N_COUNTERS], last_v[N_COUNTERS];
	struct bootstrap_stats s;
	const struct bootstrap_event_stats *t = &s.total, *p = &r->last.total;

	if (read_stats(b, &s))
		return;
	counter_values(t, now_v);
	counter_values(p, last_v);
	fprintf(stderr, "example: %.0fs delivered %" PRIu64 " (+%" PRIu64 ")", now() - r->started,
		t->delivered, t->delivered - p->delivered);
	for (size_t i = 1; i < N_COUNTERS; i++) /* [0] is emitted, not a loss */
		fprintf(stderr, ", %s +%" PRIu64, counter_names[i], now_v[i] - last_v[i]);
	fputc('\n', stderr);
	r->last = s;
}

static int column_width(const char *name)
{
	int n = (int)strlen(name) + 1;

	return n < 11 ? 11 : n;
}

static void row(const char *name, const struct bootstrap_event_stats *e)
{
	uint64_t v[N_COUNTERS];

	counter_values(e, v);
	fprintf(stderr, "  %-42s %10" PRIu64, name, e->delivered);
	for (size_t i = 0; i < N_COUNTERS; i++)
		fprintf(stderr, "%*" PRIu64, column_width(counter_names[i]), v[i]);
	fputc('\n', stderr);
}

static void per_run(const char *sep, const char *what, uint64_t runs, uint64_t ns)
{
	fprintf(stderr, "%s%s %" PRIu64 " runs, %.0f ns/run", sep, what, runs, runs ? (double)ns / runs : 0.0);
}

/* The kernel's time per program run, when it measures it (kernel.bpf_stats_enabled=1):
 * what tracing an event costs the traced process, handler and companion apart. */
static void program_times(const struct bootstrap_stats *s)
{
	if (!s->total.handler_ns && !s->total.companion_ns)
		return;
	fprintf(stderr, "  kernel time per program run (kernel.bpf_stats_enabled=1):\n");
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_stats *e = &s->events[i];

		if (!e->handler_runs && !e->companion_runs)
			continue;
		fprintf(stderr, "    %s", bootstrap_events[i].type_name);
		per_run(": ", "handler", e->handler_runs, e->handler_ns);
		if (e->companion_runs)
			per_run("; ", "companion", e->companion_runs, e->companion_ns);
		fputc('\n', stderr);
	}
}

void stats_summary(struct stats *r, struct bootstrap *b)
{
	struct bootstrap_stats s;

	if (read_stats(b, &s))
		return;
	fprintf(stderr, "example: stats after %.1fs\n", now() - r->started);
	fprintf(stderr, "  %-42s %10s", "event", "delivered");
	for (size_t i = 0; i < N_COUNTERS; i++)
		fprintf(stderr, "%*s", column_width(counter_names[i]), counter_names[i]);
	fputc('\n', stderr);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_stats *e = &s.events[i];
		uint64_t v[N_COUNTERS], any = e->delivered;

		/* An event with no counts was not selected or never happened (an aggregate-only
		 * one emits nothing, but may count losses). */
		counter_values(e, v);
		for (size_t k = 0; k < N_COUNTERS; k++)
			any |= v[k];
		if (any)
			row(bootstrap_events[i].type_name, e);
	}
	row("total", &s.total);
	/* Emitted but never read: they happened after the trace ended, or the reader left. */
	if (s.total.emitted > s.total.delivered)
		fprintf(stderr, "  not delivered at exit (emitted after the trace ended): %" PRIu64 "\n",
			s.total.emitted - s.total.delivered);
	program_times(&s);
	fprintf(stderr, "  recursion_misses %" PRIu64 ", arena_lapped %" PRIu64 ", records_malformed %" PRIu64
		", maps %.1f MiB\n", s.recursion_misses, s.arena_lapped, s.records_malformed, s.map_bytes / 1048576.0);
	fprintf(stderr,
		"  sym_files_skipped %" PRIu64 ", sym_maps_truncated %" PRIu64 ", sym_deferred %" PRIu64
		", sym_unwind_partial %" PRIu64 "\n",
		s.sym_files_skipped, s.sym_maps_truncated, s.sym_deferred, s.sym_unwind_partial);
	if (s.sym_unwound)
		fprintf(stderr, "  sym_unwound %" PRIu64 " (%" PRIu64 " bytes copied, %.1f ms)\n", s.sym_unwound,
			s.sym_unwind_bytes, s.sym_unwind_ns / 1e6);
}
