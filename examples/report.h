/* report.h: --stats: the library's delivery and loss counters, on stderr. */
#ifndef EXAMPLE_REPORT_H
#define EXAMPLE_REPORT_H

#include "bootstrap.h"

struct report {
	struct bootstrap_stats last;  /* at the previous per-second line */
	double started;               /* CLOCK_MONOTONIC seconds */
};

void report_start(struct report *r);
/* One line with the rates since the previous call (-v --stats, every second). */
void report_tick(struct report *r, struct bootstrap *b);
/* The summary at exit: per event type, then totals and every loss counter. */
void report_summary(struct report *r, struct bootstrap *b);

#endif
