/* readers.h: the processes at the other end of ./example's output (the readers of its
 * pipe, a pseudo-terminal's relay and what reads the relay), kept out of a system-wide
 * trace so that the trace does not feed on itself. */
#ifndef EXAMPLE_READERS_H
#define EXAMPLE_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bootstrap.h"

struct reader {
	pid_t pid;
	char comm[16];
	char why[192];     /* "reads the tracer's stdout (a pipe)" */
};

struct pid_list {
	pid_t *v;
	size_t n, cap;
};

struct readers {
	int fd;                /* the tracer's output; -1 when no reader is looked for */
	bool report;           /* say on stderr whom the trace leaves out, and why */
	struct reader *set;    /* excluded now */
	size_t n;
	/* The last scan of an anonymous pipe's holders: the next one looks only at what
	 * changed since. */
	dev_t pipe_dev;
	ino_t pipe_ino;
	struct pid_list seen;  /* every process there was, ascending; v NULL before a scan */
};

/* Whether fd can have a process at its other end: a pipe, a FIFO or a terminal. A
 * regular file has none. */
bool readers_possible(int fd);
void readers_init(struct readers *r, int fd, bool report);
/* Finds who is at the other end of the output now and makes b's exclusions match: the
 * newcomers excluded, those that left traced again. A failure is said on stderr and
 * the trace goes on without that exclusion. */
void readers_refresh(struct readers *r, struct bootstrap *b);
void readers_free(struct readers *r);

#endif
