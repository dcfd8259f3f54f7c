/* command.c: starting `-- COMMAND` so that none of its events is missed, like strace -f.
 *
 * The child stops itself with SIGSTOP right after fork; the parent waits for that stop,
 * opens the tracer with the child's pid (following its children), then sends SIGCONT.
 * A stop rather than a blocking read on a pipe: the child then makes no system call of
 * its own between being traced and exec, so the trace starts with COMMAND's execve.
 * Should example die while the child is still stopped, the child is left stopped until
 * its process group is orphaned, when the kernel's SIGHUP ends it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"

/* As sh and env do: 127 when COMMAND is not found, 126 when it cannot be run. */
static void exec_child(char **argv, const struct signals *sig)
{
	int err;

	signals_restore(sig);
	raise(SIGSTOP);
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "example: cannot run '%s': %s\n", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

int command_start(struct command *cmd, char **argv, const struct signals *sig)
{
	int status;

	cmd->pidfd = -1;
	cmd->pid = fork();
	if (cmd->pid < 0)
		return -errno;
	if (cmd->pid == 0)
		exec_child(argv, sig);
	if (waitpid(cmd->pid, &status, WUNTRACED) != cmd->pid || !WIFSTOPPED(status)) {
		/* Stopped is the only state it can be in, unless someone killed it. */
		command_abort(cmd);
		return -ECHILD;
	}
	cmd->pidfd = (int)syscall(SYS_pidfd_open, cmd->pid, 0);
	if (cmd->pidfd < 0) {
		int err = -errno;

		command_abort(cmd);
		return err;
	}
	return 0;
}

int command_resume(const struct command *cmd)
{
	return kill(cmd->pid, SIGCONT) ? -errno : 0;
}

void command_abort(struct command *cmd)
{
	if (cmd->pid <= 0)
		return;
	kill(cmd->pid, SIGKILL);
	waitpid(cmd->pid, NULL, 0);
	cmd->pid = 0;
	if (cmd->pidfd >= 0)
		close(cmd->pidfd);
	cmd->pidfd = -1;
}

int command_status(struct command *cmd)
{
	int status;

	while (waitpid(cmd->pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 1;
	}
	cmd->pid = 0;
	close(cmd->pidfd);
	cmd->pidfd = -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
