/* floor: runs COMMAND under the floor BPF program and counts its records.
 *
 *   floor [-i MS] -- COMMAND [ARG...]
 *
 * COMMAND is forked, held until the program is attached with COMMAND's pid as the
 * target, then exec'd. The ring buffer is drained every MS milliseconds (default 10),
 * never on a wake-up. At exit one line goes to stderr:
 *   floor: pid=PID openat=N write=N exec=N dropped=N
 * write counts writes to fd 1, exec counts execs of COMMAND's children. The exit status
 * is COMMAND's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.h"
#include "floor.skel.h"

struct counts {
	__u32 target;
	unsigned long long n[FLOOR_NKINDS];
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct counts *c = ctx;
	const struct floor_record *r = data;

	if (size < sizeof(*r) || r->kind >= FLOOR_NKINDS)
		return 0;
	if (r->kind == FLOOR_WRITE && r->arg != 1)
		return 0;
	if (r->kind == FLOOR_EXEC && r->tgid == c->target)
		return 0; /* COMMAND's own exec, not one of the workload's */
	c->n[r->kind]++;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: floor [-i MS] -- COMMAND [ARG...]\n");
	exit(2);
}

/* Forks COMMAND held at a pipe read; writing a byte to *go lets it exec. If the loader
 * dies first, the read sees end-of-file and COMMAND exits without running. */
static pid_t spawn_held(char **argv, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "floor: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 10 * 1000000L };
	struct counts counts = { 0 };
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel;
	int opt, ms, go, status = 0, err;
	pid_t child;

	while ((opt = getopt(argc, argv, "+i:")) != -1) {
		ms = opt == 'i' ? atoi(optarg) : 0;
		if (ms <= 0)
			usage();
		tick.tv_sec = ms / 1000;
		tick.tv_nsec = (ms % 1000) * 1000000L;
	}
	if (optind >= argc)
		usage();

	child = spawn_held(argv + optind, &go);
	if (child < 0) {
		perror("floor: fork");
		return 1;
	}
	counts.target = (__u32)child;

	skel = floor_bpf__open();
	if (!skel) {
		perror("floor: open");
		return 1;
	}
	skel->rodata->target_tgid = (__u32)child;
	err = floor_bpf__load(skel);
	if (!err)
		err = floor_bpf__attach(skel);
	if (!err) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.records), on_record, &counts, NULL);
		if (!rb)
			err = -errno;
	}
	if (err) {
		fprintf(stderr, "floor: loading the BPF program: %s\n", strerror(-err));
		kill(child, SIGKILL);
		return 1;
	}

	if (write(go, "g", 1) != 1) {
		perror("floor: starting the command");
		return 1;
	}
	close(go);
	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);

		if (r == child)
			break;
		if (r < 0 && errno != EINTR) {
			perror("floor: waitpid");
			return 1;
		}
		nanosleep(&tick, NULL);
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);

	fprintf(stderr, "floor: pid=%d openat=%llu write=%llu exec=%llu dropped=%llu\n",
		(int)child, counts.n[FLOOR_OPENAT], counts.n[FLOOR_WRITE], counts.n[FLOOR_EXEC],
		(unsigned long long)skel->bss->dropped);
	ring_buffer__free(rb);
	floor_bpf__destroy(skel);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
