/* wload: the benchmark's workload generator.
 *
 *   wload openat N PATH        N x (openat(PATH) + close)
 *   wload write N SIZE         N writes of SIZE bytes to fd 1 (see payload.h for the bytes)
 *   wload exec N               N x (fork + exec /bin/true with fixed arguments + wait)
 *   wload threads T N PATH     T threads, each doing N x (openat(PATH) + close)
 *   wload cpu N                N x a fixed block of arithmetic (no system call): CPU-bound
 *
 * It times only its loop and prints one line on stderr when done:
 *   wload: pid=PID op=OP n=OPS ns=ELAPSED ns_per_op=X
 * stdout carries the write payloads, so the result goes to stderr; a tracer's own stderr
 * may interleave, which is why the line has a fixed prefix. For threads, ns_per_op is the
 * elapsed time divided by N (what each thread sees per operation), and n is T*N.
 *
 * With WLOAD_STOP=1 in the environment it stops itself (SIGSTOP) after setting up and
 * before the loop, so a harness can attach a tracer by pid and then send SIGCONT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"

/* The arguments each exec'd /bin/true gets; bench/check.py (EXEC_ARGV) checks captured
 * argv against the same list. */
static const char *const exec_args[] = { "/bin/true", "wload-exec", "--alpha=1", "beta" };
#define N_EXEC_ARGS (sizeof(exec_args) / sizeof(exec_args[0]))

static void die(const char *what)
{
	fprintf(stderr, "wload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: wload openat N PATH | write N SIZE | exec N | threads T N PATH | cpu N\n"
			"  prints 'wload: pid= op= n= ns= ns_per_op=' on stderr\n"
			"  WLOAD_STOP=1: SIGSTOP itself before the loop (attach, then SIGCONT)\n");
	exit(2);
}

static unsigned long long parse_count(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v == 0)
		usage();
	return v;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void ready(void)
{
	const char *stop = getenv("WLOAD_STOP");

	if (stop && strcmp(stop, "1") == 0)
		raise(SIGSTOP);
}

static void open_loop(unsigned long long n, const char *path)
{
	for (unsigned long long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			die(path);
		close(fd);
	}
}

static void write_loop(unsigned long long n, size_t size, const char *table)
{
	char *buf = malloc(size);

	if (!buf)
		die("malloc");
	for (unsigned long long seq = 0; seq < n; seq++) {
		payload_fill(buf, size, seq, table);
		if (write(1, buf, size) != (ssize_t)size)
			die("write");
	}
	free(buf);
}

/* argv is copied to the heap first, as a shell builds it. String literals of this static
 * binary live in file-backed pages that a fresh child has not mapped yet, so a tracer
 * reading argv at execve entry would see read faults that no ordinary program causes. */
static void exec_loop(unsigned long long n)
{
	char *argv[N_EXEC_ARGS + 1] = { NULL };

	for (size_t i = 0; i < N_EXEC_ARGS; i++) {
		argv[i] = strdup(exec_args[i]);
		if (!argv[i])
			die("strdup");
	}
	for (unsigned long long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "wload: %s failed (status %d)\n", argv[0], status);
			exit(1);
		}
	}
	for (size_t i = 0; i < N_EXEC_ARGS; i++)
		free(argv[i]);
}

/* About a microsecond of integer arithmetic per operation; the result is printed so the
 * compiler cannot drop the work. */
static unsigned long long cpu_loop(unsigned long long n)
{
	unsigned long long x = 1;

	for (unsigned long long i = 0; i < n; i++)
		for (int k = 0; k < 1000; k++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

struct thread_arg {
	unsigned long long n;
	const char *path;
	pthread_barrier_t *start;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	pthread_barrier_wait(a->start);
	open_loop(a->n, a->path);
	return NULL;
}

/* Threads are created before the clock starts; a barrier releases them together. */
static unsigned long long threads_run(unsigned long long t, unsigned long long n, const char *path)
{
	pthread_t *tids = calloc(t, sizeof(*tids));
	pthread_barrier_t start;
	struct thread_arg arg = { .n = n, .path = path, .start = &start };
	unsigned long long t0;

	if (!tids)
		die("calloc");
	if (pthread_barrier_init(&start, NULL, (unsigned)t + 1))
		die("pthread_barrier_init");
	for (unsigned long long i = 0; i < t; i++) {
		errno = pthread_create(&tids[i], NULL, thread_main, &arg);
		if (errno)
			die("pthread_create");
	}
	ready();
	t0 = now_ns();
	pthread_barrier_wait(&start);
	for (unsigned long long i = 0; i < t; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return now_ns() - t0;
}

static void report(const char *op, unsigned long long ops, unsigned long long per, unsigned long long ns)
{
	fprintf(stderr, "wload: pid=%d op=%s n=%llu ns=%llu ns_per_op=%.1f\n",
		(int)getpid(), op, ops, ns, (double)ns / (double)per);
}

int main(int argc, char **argv)
{
	unsigned long long t0, n;
	const char *op;

	if (argc < 3)
		usage();
	op = argv[1];
	if (strcmp(op, "openat") == 0 && argc == 4) {
		n = parse_count(argv[2]);
		ready();
		t0 = now_ns();
		open_loop(n, argv[3]);
		report(op, n, n, now_ns() - t0);
	} else if (strcmp(op, "write") == 0 && argc == 4) {
		static char table[2 * PAYLOAD_TABLE_LEN];
		unsigned long long size = parse_count(argv[3]);

		n = parse_count(argv[2]);
		if (size > PAYLOAD_MAX_SIZE)
			usage();
		payload_table(table);
		ready();
		t0 = now_ns();
		write_loop(n, size, table);
		report(op, n, n, now_ns() - t0);
	} else if (strcmp(op, "exec") == 0 && argc == 3) {
		n = parse_count(argv[2]);
		ready();
		t0 = now_ns();
		exec_loop(n);
		report(op, n, n, now_ns() - t0);
	} else if (strcmp(op, "cpu") == 0 && argc == 3) {
		unsigned long long x;

		n = parse_count(argv[2]);
		ready();
		t0 = now_ns();
		x = cpu_loop(n);
		report(op, n, n, now_ns() - t0);
		printf("%llu\n", x);
	} else if (strcmp(op, "threads") == 0 && argc == 5) {
		unsigned long long t = parse_count(argv[2]);

		n = parse_count(argv[3]);
		report(op, t * n, n, threads_run(t, n, argv[4]));
	} else {
		usage();
	}
	return 0;
}
