/* report.c: --stats output. Counters come from bootstrap_stats(); delivered + the loss
 * counters account for every event the kernel saw, so each of them is shown, zero or not. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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

void report_start(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->started = now();
}

void report_tick(struct report *r, struct bootstrap *b)
{
	struct bootstrap_stats s;
	const struct bootstrap_event_stats *t = &s.total, *p = &r->last.total;

	if (read_stats(b, &s))
		return;
	fprintf(stderr, "example: %.0fs delivered %" PRIu64 " (+%" PRIu64 "), ringbuf_full +%" PRIu64
		", fields_lost +%" PRIu64 ", read_faults +%" PRIu64 ", truncated +%" PRIu64 "\n",
		now() - r->started, t->delivered, t->delivered - p->delivered,
		t->ringbuf_full - p->ringbuf_full, t->fields_lost - p->fields_lost,
		t->read_faults - p->read_faults, t->truncated - p->truncated);
	r->last = s;
}

static void row(const char *name, const struct bootstrap_event_stats *e)
{
	fprintf(stderr, "  %-42s %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %11" PRIu64 " %10" PRIu64
		" %11" PRIu64 " %9" PRIu64 "\n", name, e->delivered, e->emitted, e->ringbuf_full,
		e->fields_lost, e->payload_bytes_lost, e->read_faults, e->truncated);
}

void report_summary(struct report *r, struct bootstrap *b)
{
	struct bootstrap_stats s;

	if (read_stats(b, &s))
		return;
	fprintf(stderr, "example: stats after %.1fs\n", now() - r->started);
	fprintf(stderr, "  %-42s %10s %10s %12s %11s %10s %11s %9s\n", "event", "delivered", "emitted",
		"ringbuf_full", "fields_lost", "bytes_lost", "read_faults", "truncated");
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_stats *e = &s.events[i];

		/* An event with no counts was not selected or never happened. */
		if (e->delivered || e->emitted || e->ringbuf_full)
			row(bootstrap_events[i].type_name, e);
	}
	row("total", &s.total);
	/* Emitted but never read: they happened after the trace ended, or the reader left. */
	if (s.total.emitted > s.total.delivered)
		fprintf(stderr, "  not delivered at exit (emitted after the trace ended): %" PRIu64 "\n",
			s.total.emitted - s.total.delivered);
	fprintf(stderr, "  recursion_misses %" PRIu64 ", arena_lapped %" PRIu64 ", maps %.1f MiB\n",
		s.recursion_misses, s.arena_lapped, s.map_bytes / 1048576.0);
}
