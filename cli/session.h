/* session.h: the state of one trace, shared by its setup (trace.c) and its event loop
 * (loop.c). */
#ifndef CLI_SESSION_H
#define CLI_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "bootstrap.h"
#include "command.h"
#include "options.h"
#include "output.h"
#include "readers.h"
#include "stats.h"
#include "signals.h"

/* What the loop's epoll set reports, in epoll_event.data.u32. */
enum source { SRC_EVENTS, SRC_SIGNAL, SRC_COMMAND, SRC_DEADLINE, SRC_TICK, SRC_READERS, SRC_AGGREGATES };

struct logger {
	int verbose;
	bool warned;               /* the library logged a warning */
};

struct session {
	const struct options *opts;
	struct bootstrap *b;       /* NULL once the trace has ended */
	struct output out;
	struct signals sig;
	struct command cmd;        /* pid 0 when there is no COMMAND, or it was reaped */
	struct stats stats;
	struct logger log;
	struct readers readers;    /* left out of the trace: who is at the other end of the output */
	int epfd;
	int tick_fd;               /* --stats -v: every second */
	int readers_fd;            /* every second: look for the output's readers again */
	int agg_fd;                /* -i: every SECONDS, the aggregate lines */
	int signals_seen;
	uint64_t wall_offset_ns;   /* CLOCK_REALTIME - CLOCK_BOOTTIME, as the library stamps events */
	uint64_t until_ns;         /* while draining: deliver only events up to this time */
	bool past_end;             /* while draining: an event after until_ns came up */
	unsigned int batch;        /* events written in this bootstrap_poll() */
	bool done;
	bool failed;
	int status;                /* the exit status when nothing failed */
};

/* Runs until the trace and, with COMMAND, the command have ended. */
void session_loop(struct session *s);
/* Reports a runtime error ("example: what: why"); returns err for callers to pass on. */
int session_fail(struct session *s, const char *what, const char *why, int err);

#endif
