/* signals.c: stop signals arrive through a signalfd rather than a handler, so the trace
 * loop sees them between batches and can deliver what is pending before it exits. */
#include <errno.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "signals.h"

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

int signals_setup(struct signals *s)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	stop_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, &s->saved))
		return -errno;
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (sigaction(SIGPIPE, &ignore, &s->saved_pipe) || sigaction(SIGCHLD, &dfl, &s->saved_chld))
		return -errno;
	return 0;
}

int signals_read(const struct signals *s, bool *from_terminal)
{
	struct signalfd_siginfo si;

	if (read(s->fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	*from_terminal = si.ssi_code == SI_KERNEL;
	return (int)si.ssi_signo;
}

void signals_restore(const struct signals *s)
{
	/* An ignored signal stays ignored across exec, and a blocked one stays blocked: a
	 * traced command must start with what example itself was given. */
	sigaction(SIGPIPE, &s->saved_pipe, NULL);
	sigaction(SIGCHLD, &s->saved_chld, NULL);
	sigprocmask(SIG_SETMASK, &s->saved, NULL);
}
