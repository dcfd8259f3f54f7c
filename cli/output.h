/* output.h: the NDJSON stream: one line per event, buffered into large writes. */
#ifndef CLI_OUTPUT_H
#define CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bootstrap.h"
#include "folded.h"

struct output {
	FILE *f;
	char *stdio_buf;
	char *line;        /* one event's JSON; grown to the largest event seen */
	size_t cap;
	bool closed;       /* the reader went away (EPIPE): a normal end, not an error */
	int error;         /* errno of a failed write, other than EPIPE */
	struct folded *folded; /* --folded: stacks counted, written at close instead of lines */
	char refused[128];     /* why output_open() would not write to FILE, when it would not */
};

/* Opens path (NULL = stdout; outfile.h says how a FILE is opened). Returns 0 or -errno,
 * with the reason in out->refused when FILE was refused. */
int output_open(struct output *out, const char *path);
/* A bootstrap_event_fn: writes the event's line (or with folded, counts its stacks);
 * non-zero stops the poll once the output can take no more. */
int output_event(void *ctx, const struct bootstrap_event *ev);
/* Writes one line per key of every aggregation of the selected events (totals, now).
 * Returns 0, or a negative errno when they cannot be read (the output's own failure is
 * kept in out->closed / out->error, as for events). */
int output_aggregates(struct output *out, struct bootstrap *b);
/* Pushes buffered lines to the file; false once the output is closed or failed. */
bool output_flush(struct output *out);
/* Whether the stream still takes lines. */
bool output_ok(const struct output *out);
/* Writes the folded stacks if any, flushes and closes; returns the errno of a failure, 0 when all went out (or the
 * reader left). */
int output_close(struct output *out);

#endif
