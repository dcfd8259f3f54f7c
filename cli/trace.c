/* trace.c: a trace from start to exit status: signals, the command (stopped until it
 * is traced), the library, the output, the event loop's sources; then the loop
 * (loop.c), which ends the trace and closes the output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "sampling.h"
#include "session.h"

/* How often the output's readers are looked for again: a reader may start late or be
 * replaced; its events until then are traced. */
#define READERS_RECHECK_S 1.0

/* The library's messages, with the program's name; info and debug only with -v/-vv. */
static void log_line(void *ctx, enum bootstrap_log_level level, const char *msg)
{
	struct logger *l = ctx;

	if ((int)level > l->verbose)
		return;
	if (level == BOOTSTRAP_LOG_WARN)
		l->warned = true;
	fprintf(stderr, "example: %s\n", msg);
}

static int watch(int epfd, int fd, enum source src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A timer on the loop: once after `seconds`, or every `seconds` when periodic.
 * Returns its fd or -errno. */
static int watch_timer(int epfd, double seconds, bool periodic, enum source src)
{
	struct itimerspec t = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	t.it_value.tv_sec = (time_t)seconds;
	t.it_value.tv_nsec = (long)((seconds - (double)t.it_value.tv_sec) * 1e9);
	if (periodic)
		t.it_interval = t.it_value;
	err = timerfd_settime(fd, 0, &t, NULL) ? -errno : watch(epfd, fd, src);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static struct bootstrap_opts library_options(struct session *s)
{
	const struct options *o = s->opts;
	struct bootstrap_opts bo = options_library(o);

	bo.log = log_line;
	bo.log_ctx = &s->log;
	if (o->command) {
		bo.pids = &s->cmd.pid;
		bo.n_pids = 1;
		bo.follow_children = true;
	}
	return bo;
}

/* The loop's sources: events, signals, and as asked the command's exit and timers. */
static int setup_loop(struct session *s)
{
	int err;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	err = watch(s->epfd, bootstrap_epoll_fd(s->b), SRC_EVENTS);
	err = err ?: watch(s->epfd, s->sig.fd, SRC_SIGNAL);
	if (!err && s->cmd.pid)
		err = watch(s->epfd, s->cmd.pidfd, SRC_COMMAND);
	if (!err && s->opts->duration > 0) {
		int fd = watch_timer(s->epfd, s->opts->duration, false, SRC_DEADLINE);

		err = fd < 0 ? fd : 0;
	}
	if (!err && s->readers.fd >= 0) {
		s->readers_fd = watch_timer(s->epfd, READERS_RECHECK_S, true, SRC_READERS);
		err = s->readers_fd < 0 ? s->readers_fd : 0;
	}
	if (!err && s->opts->interval > 0) {
		s->agg_fd = watch_timer(s->epfd, s->opts->interval, true, SRC_AGGREGATES);
		err = s->agg_fd < 0 ? s->agg_fd : 0;
	}
	if (!err && s->opts->stats && s->opts->verbose) {
		s->tick_fd = watch_timer(s->epfd, 1.0, true, SRC_TICK);
		err = s->tick_fd < 0 ? s->tick_fd : 0;
	}
	return err;
}

/* Opens the library on the command (stopped until then) or on what the options name. */
static int open_tracer(struct session *s)
{
	char targets[BOOTSTRAP_N_EVENTS][BOOTSTRAP_TARGET_NAME_MAX];
	struct bootstrap_attach *attach = NULL;
	struct bootstrap_opts bo;
	int err;

	if (s->opts->command) {
		err = command_start(&s->cmd, s->opts->command, &s->sig);
		if (err)
			return session_fail(s, "starting the command failed", strerror(-err), err);
	}
	bo = library_options(s);
	/* -F: the sampling events' targets after the probe options' ones. */
	if (s->opts->frequency) {
		if (!(attach = calloc(bo.n_attach + BOOTSTRAP_N_EVENTS, sizeof(*attach))))
			return session_fail(s, "cannot start tracing", strerror(ENOMEM), -ENOMEM);
		memcpy(attach, bo.attach, bo.n_attach * sizeof(*attach));
		bo.n_attach += sampling_at(bo.events, s->opts->frequency, attach + bo.n_attach, targets);
		bo.attach = attach;
	}
	err = bootstrap_open(&bo, &s->b);
	free(attach);
	/* The library says why in its own words, except for a few internal failures. */
	if (err && !s->log.warned)
		return session_fail(s, "cannot start tracing", bootstrap_strerror(err), err);
	return err;
}

/* System-wide, the processes at the other end of the output are left out of the trace,
 * or their handling of each event becomes more events (with -p or COMMAND they are not
 * traced anyway, and a regular file has no reader). */
static void start_readers(struct session *s)
{
	const struct options *o = s->opts;
	int fd = fileno(s->out.f);

	if (o->command || o->n_pids || o->trace_readers || !readers_possible(fd))
		return;
	readers_init(&s->readers, fd, o->verbose);
	readers_refresh(&s->readers, s->b);
}

/* Everything before the loop; on failure the message is out. */
static int start(struct session *s)
{
	int err;

	err = signals_setup(&s->sig);
	if (err)
		return session_fail(s, "setting up signals failed", strerror(-err), err);
	err = open_tracer(s);
	if (err)
		return err;
	if (s->opts->command && !s->opts->output && !isatty(STDOUT_FILENO))
		fprintf(stderr, "example: %s writes to the same stdout as the trace; use -o FILE to keep "
			"them apart\n", s->opts->command[0]);
	/* Only now: a run that cannot trace must not truncate an existing trace file. */
	err = output_open(&s->out, s->opts->output);
	if (!err && s->opts->folded && !(s->out.folded = folded_new()))
		err = -ENOMEM;
	if (err && s->out.refused[0])
		fprintf(stderr, "example: will not write to '%s': %s\n", s->opts->output, s->out.refused);
	else if (err)
		fprintf(stderr, "example: cannot open '%s': %s\n", s->opts->output ? s->opts->output : "stdout",
			strerror(-err));
	if (err)
		return err;
	start_readers(s);
	s->wall_offset_ns = bs_clock_ns(CLOCK_REALTIME) - bs_clock_ns(CLOCK_BOOTTIME);
	stats_start(&s->stats);
	err = setup_loop(s);
	if (err)
		return session_fail(s, "setting up the event loop failed", strerror(-err), err);
	err = s->cmd.pid ? command_resume(&s->cmd) : 0;
	return err ? session_fail(s, "resuming the command failed", strerror(-err), err) : 0;
}

int run_trace(const struct options *opts)
{
	struct session s = { .opts = opts, .epfd = -1, .tick_fd = -1, .readers_fd = -1, .agg_fd = -1, .readers.fd = -1,
			     .log.verbose = opts->verbose };

	if (start(&s)) {
		/* The command never ran a single instruction of its own: take it back. */
		command_abort(&s.cmd);
		bootstrap_close(s.b);
		readers_free(&s.readers);
		return EXIT_RUNTIME;
	}
	session_loop(&s);
	readers_free(&s.readers);
	return s.failed ? EXIT_RUNTIME : s.status;
}
