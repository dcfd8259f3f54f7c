/* stats.h: --stats: the library's delivery and loss counters, on stderr. */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include "bootstrap.h"

struct stats {
	struct bootstrap_stats last;  /* at the previous per-second line */
	double started;               /* CLOCK_MONOTONIC seconds */
};

void stats_start(struct stats *r);
/* One line with the rates since the previous call (-v --stats, every second). */
void stats_tick(struct stats *r, struct bootstrap *b);
/* The summary at exit: per event type, then totals and every loss counter. */
void stats_summary(struct stats *r, struct bootstrap *b);

#endif
