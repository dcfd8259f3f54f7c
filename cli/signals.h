/* signals.h: how ./example receives signals while tracing: through a signalfd, read in
 * the trace loop like any other event source, so that no work happens in a handler. */
#ifndef CLI_SIGNALS_H
#define CLI_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

struct signals {
	int fd;           /* signalfd for SIGINT, SIGTERM, SIGHUP */
	sigset_t saved;   /* the mask before, for a child to restore */
	struct sigaction saved_pipe;
	struct sigaction saved_chld;
};

/* Blocks the stop signals into a signalfd, ignores SIGPIPE (a closed reader shows up
 * as EPIPE instead) and makes sure SIGCHLD is not ignored (an inherited SIG_IGN would
 * reap the traced command before we learn its status). Returns 0 or -errno. */
int signals_setup(struct signals *s);
/* Reads one pending signal: its number, and whether it came from the terminal (the
 * kernel sends those to the whole foreground process group). 0 when none is pending. */
int signals_read(const struct signals *s, bool *from_terminal);
/* In a forked child before exec: the dispositions and mask example started with. */
void signals_restore(const struct signals *s);

#endif
