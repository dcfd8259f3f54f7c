/* wload: the benchmark's workload generator.
 *
 *   wload openat N PATH        N x (openat(PATH) + close)
 *   wload write N SIZE         N writes of SIZE bytes to fd 1 (see payload.h for the bytes)
 *   wload exec N               N x (fork + exec /bin/true with fixed arguments + wait)
 *   wload exec-long N          the same with 100 arguments of 300 bytes each
 *   wload exec-literal N       N x (fork + a fresh child execs /bin/true with an argv of
 *                              string literals, never touched before by that child + wait)
 *   wload argv EXEC-OP         prints the argv that EXEC-OP's children get, each string
 *                              NUL-terminated, on stdout (bench/check.py reads it)
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"

/* The arguments each exec'd /bin/true gets; bench/check.py asks `wload argv OP` for them
 * to check captured argv against. */
static const char *const exec_args[] = { "/bin/true", "wload-exec", "--alpha=1", "beta" };
#define N_EXEC_ARGS (sizeof(exec_args) / sizeof(exec_args[0]))
/* exec-long: argument i (1..LONG_ARGS) is LONG_ARG_BYTES bytes: its number, then letters
 * that shift with it, so that a piece of one argument read as another's shows. */
#define LONG_ARGS 100
#define LONG_ARG_BYTES 300
/* exec-literal: the array and its strings are constants of this static binary, in
 * file-backed pages that a forked child has not touched when it calls execv. */
static const char *const literal_args[] = { "/bin/true", "wload-literal", "--gamma=2", "delta", NULL };

static void die(const char *what)
{
	fprintf(stderr, "wload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: wload openat N PATH | write N SIZE | exec|exec-long|exec-literal N |\n"
			"  threads T N PATH | cpu N | argv exec|exec-long|exec-literal\n"
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

/* The argv of op's children (NULL-terminated), built on the heap as a shell builds it,
 * or literal_args for exec-literal. String literals of this static binary live in
 * file-backed pages that a fresh child has not mapped yet, so a tracer reading argv at
 * execve entry sees read faults: exec-literal makes them on purpose, the others not. */
static char **exec_argv(const char *op)
{
	size_t n = strcmp(op, "exec-long") == 0 ? LONG_ARGS + 1 : N_EXEC_ARGS;
	char **argv;

	if (strcmp(op, "exec-literal") == 0)
		return (char **)literal_args;
	if (!(argv = calloc(n + 1, sizeof(*argv))))
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		if (n == N_EXEC_ARGS || i == 0) {
			argv[i] = strdup(exec_args[i]);
		} else if ((argv[i] = malloc(LONG_ARG_BYTES + 1))) {
			int at = snprintf(argv[i], LONG_ARG_BYTES + 1, "%03zu:", i);

			for (int k = at; k < LONG_ARG_BYTES; k++)
				argv[i][k] = (char)('a' + (i + (size_t)k) % 26);
			argv[i][LONG_ARG_BYTES] = '\0';
		}
		if (!argv[i])
			die("malloc");
	}
	return argv;
}

static void exec_loop(unsigned long long n, char **argv)
{
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

static bool is_exec(const char *op)
{
	return !strcmp(op, "exec") || !strcmp(op, "exec-long") || !strcmp(op, "exec-literal");
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
	} else if (is_exec(op) && argc == 3) {
		char **args = exec_argv(op);

		n = parse_count(argv[2]);
		ready();
		t0 = now_ns();
		exec_loop(n, args);
		report(op, n, n, now_ns() - t0);
	} else if (strcmp(op, "argv") == 0 && argc == 3 && is_exec(argv[2])) {
		for (char **a = exec_argv(argv[2]); *a; a++)
			fwrite(*a, 1, strlen(*a) + 1, stdout);
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
