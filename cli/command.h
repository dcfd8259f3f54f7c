/* command.h: `-- COMMAND`: a child that waits, stopped, until tracing is set up. */
#ifndef CLI_COMMAND_H
#define CLI_COMMAND_H

#include <sys/types.h>

#include "signals.h"

struct command {
	pid_t pid;
	int pidfd;        /* readable once the command has exited */
};

/* Forks; the child stops itself before exec, so tracing can be attached to its pid
 * before it runs a single instruction of COMMAND. Returns 0 or -errno. */
int command_start(struct command *cmd, char **argv, const struct signals *sig);
/* Lets the stopped child go on to exec COMMAND. */
int command_resume(const struct command *cmd);
/* Kills and reaps a child that never got to run (tracing failed to start). */
void command_abort(struct command *cmd);
/* Reaps the exited command: its exit status, or 128+N when signal N killed it. */
int command_status(struct command *cmd);

#endif
