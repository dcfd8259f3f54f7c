/* readers.h: the processes at the other end of ./example's output (the readers of its
 * pipe, a pseudo-terminal's relay and what reads the relay), kept out of a system-wide
 * trace so that the trace does not feed on itself: those of its own pipeline only. */
#ifndef CLI_READERS_H
#define CLI_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bootstrap.h"

struct reader {
	pid_t pid;
	bool own;          /* of the tracer's pipeline: excluded; else it stays traced */
	char comm[16];
	char why[256];     /* "reads the tracer's stdout, a pipe, in the session of the tracer" */
};

struct pid_list {
	pid_t *v;
	size_t n, cap;
};

/* A process that held the output at the first look: the pid, and its start time, as
 * a pid may be used again. */
struct founder {
	pid_t pid;
	unsigned long long start;
};

struct readers {
	int fd;                /* the tracer's output; -1 when no reader is looked for */
	bool verbose;          /* name the holders that stay traced too */
	bool looked;           /* a first look was made: holders found later are newcomers */
	struct reader *set;    /* excluded now */
	size_t n;
	struct reader *late;   /* holders that came later from elsewhere, traced, named once */
	size_t n_late;
	struct founder *founders;
	size_t n_founders, founders_cap;
	/* The last scan of an anonymous pipe's holders: the next one looks only at what
	 * changed since. */
	dev_t pipe_dev;
	ino_t pipe_ino;
	struct pid_list seen;  /* every process there was, ascending; v NULL before a scan */
};

/* Whether fd can have a process at its other end: a pipe, a FIFO or a terminal. A
 * regular file has none. */
bool readers_possible(int fd);
void readers_init(struct readers *r, int fd, bool verbose);
/* Finds who is at the other end of the output now and makes b's exclusions match: the
 * newcomers of the pipeline excluded, those that left traced again, each said on
 * stderr. A failure is said there too, and the trace goes on without that exclusion. */
void readers_refresh(struct readers *r, struct bootstrap *b);
void readers_free(struct readers *r);

#endif
