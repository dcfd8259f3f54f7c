/* loop.c: the running trace. One epoll loop waits on the library's fd, the stop
 * signals, the traced command's pidfd and the -d / --stats timers, so whatever ends a
 * trace is seen between two batches of events, and what happened until then is still
 * delivered before example exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "session.h"

/* Events per bootstrap_poll() before the loop looks at its other sources again. */
#define BATCH_EVENTS 4096
/* The library measures the wall clock offset a moment before we do: allow for it. */
#define DRAIN_MARGIN_NS 1000000ull

int session_fail(struct session *s, const char *what, const char *why, int err)
{
	fprintf(stderr, "example: %s: %s\n", what, why);
	s->failed = true;
	return err;
}

/* Event timestamps are boot time plus the wall clock offset taken when tracing began;
 * measuring "now" the same way keeps the comparison right if the wall clock is set. */
static uint64_t event_clock_now(const struct session *s)
{
	return bs_clock_ns(CLOCK_BOOTTIME) + s->wall_offset_ns;
}

/* Per event: write it. Returns non-zero to end this bootstrap_poll() early: after a
 * batch, so that a stream that never pauses cannot keep the loop from seeing signals,
 * and, while draining, at the first event that happened after the trace was ended. */
static int on_event(void *ctx, const struct bootstrap_event *ev)
{
	struct session *s = ctx;

	if (s->until_ns && ev->hdr->timestamp_ns > s->until_ns) {
		s->past_end = true;
		return 1;
	}
	if (output_event(&s->out, ev))
		return 1;
	return ++s->batch >= BATCH_EVENTS;
}

/* Writes a batch of the events that are ready. Returns how many (0: none was pending),
 * or -1 when the trace cannot go on. */
static int deliver(struct session *s)
{
	int n;

	s->batch = 0;
	n = bootstrap_poll(s->b, 0, on_event, s);
	if (n < 0)
		return session_fail(s, "reading events failed", bootstrap_strerror(n), -1);
	if (!output_flush(&s->out)) {
		if (s->out.error)
			session_fail(s, "writing the events failed", strerror(s->out.error), -1);
		return -1;
	}
	return n;
}

/* The aggregate lines, after the events delivered until now. */
static void write_aggregates(struct session *s)
{
	int err = output_aggregates(&s->out, s->b);

	if (err)
		session_fail(s, "reading the aggregations failed", bootstrap_strerror(err), err);
}

/* Ends the trace: with drain, first every event that happened until now (draining
 * until nothing is pending might never end: the reader of our output may be traced
 * too, and then each write we make brings new events); then the output is closed,
 * so its reader sees the end before the detach, which can take seconds (the kernel
 * waits for a grace period per tracepoint); then the stats; then detach. */
static void end_trace(struct session *s, bool drain)
{
	int err;

	if (!s->b)
		return;
	s->until_ns = event_clock_now(s) + DRAIN_MARGIN_NS;
	while (drain && !s->past_end && deliver(s) > 0)
		;
	write_aggregates(s);
	err = output_close(&s->out);
	if (err && !s->failed)
		session_fail(s, "writing the events failed", strerror(err), err);
	if (s->opts->stats)
		stats_summary(&s->stats, s->b);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, bootstrap_epoll_fd(s->b), NULL);
	bootstrap_close(s->b);
	s->b = NULL;
	/* Without a command to wait for, the end of the trace is the end of example. */
	if (!s->cmd.pid)
		s->done = true;
}

/* Without COMMAND a stop signal ends the trace. With COMMAND it is passed on, unless it
 * came from the terminal (COMMAND, in the same foreground process group, got it too),
 * and the trace goes on until COMMAND exits; a second one ends the trace at once. */
static void on_signal(struct session *s, int sig, bool from_terminal)
{
	if (!s->cmd.pid) {
		end_trace(s, true);
		return;
	}
	if (++s->signals_seen == 1) {
		if (!from_terminal)
			kill(s->cmd.pid, sig);
		return;
	}
	end_trace(s, true);
	fprintf(stderr, "example: stopped by %s; %s (pid %d) goes on untraced\n", strsignal(sig),
		s->opts->command[0], (int)s->cmd.pid);
	s->status = 128 + sig;
	s->done = true;
}

static void handle(struct session *s, enum source src)
{
	bool from_terminal;
	uint64_t ticks;
	int sig;

	switch (src) {
	case SRC_EVENTS:
		if (s->b && deliver(s) < 0)
			end_trace(s, false);
		break;
	case SRC_SIGNAL:
		while (!s->done && (sig = signals_read(&s->sig, &from_terminal)))
			on_signal(s, sig, from_terminal);
		break;
	case SRC_COMMAND:
		end_trace(s, true);
		s->status = command_status(&s->cmd);
		s->done = true;
		break;
	case SRC_DEADLINE:
		end_trace(s, true);
		break;
	case SRC_TICK:
		/* Read, or the timer stays readable and the loop spins. */
		if (read(s->tick_fd, &ticks, sizeof(ticks)) == sizeof(ticks) && s->b)
			stats_tick(&s->stats, s->b);
		break;
	case SRC_AGGREGATES:
		/* After the events delivered until now, between them and the next ones. */
		if (read(s->agg_fd, &ticks, sizeof(ticks)) != sizeof(ticks) || !s->b)
			break;
		if (deliver(s) >= 0)
			write_aggregates(s);
		if (!output_flush(&s->out))
			end_trace(s, false);
		break;
	case SRC_READERS:
		if (read(s->readers_fd, &ticks, sizeof(ticks)) == sizeof(ticks) && s->b)
			readers_refresh(&s->readers, s->b);
		break;
	}
}

void session_loop(struct session *s)
{
	struct epoll_event evs[8];

	while (!s->done) {
		int n = epoll_wait(s->epfd, evs, 8, -1);

		if (n < 0 && errno != EINTR) {
			session_fail(s, "waiting for events failed", strerror(errno), 0);
			end_trace(s, false);
			return;
		}
		for (int i = 0; i < n && !s->done; i++)
			handle(s, evs[i].data.u32);
	}
}
