/* output.c: the NDJSON stream. Each event is serialized by the library
 * (bootstrap_event_json does all the escaping) into a buffer that grows to the largest
 * event, and written through stdio: a 1 MiB buffer when the output is a pipe or file so
 * that many events go out per write(), line buffering on a terminal so each appears at
 * once. The trace loop flushes after every batch, which bounds the latency.
 * -o FILE is opened by outfile.c: a trace may hold typed passwords and TLS plaintext. */
#include <errno.h>
#include <fcntl.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "output.h"

#define STDIO_BUFFER (1u << 20)
#define FIRST_LINE_CAP (64u << 10)

int output_open(struct output *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	if (path) {
		int fd = outfile_open(path, out->refused, sizeof(out->refused));

		if (fd < 0)
			return fd;
		out->f = fdopen(fd, "w");
		if (!out->f) {
			int err = -errno;

			close(fd);
			return err;
		}
	} else {
		out->f = stdout;
	}
	out->line = malloc(FIRST_LINE_CAP);
	if (!out->line)
		return -ENOMEM;
	out->cap = FIRST_LINE_CAP;
	if (isatty(fileno(out->f)))
		return setvbuf(out->f, NULL, _IOLBF, 0) ? -ENOMEM : 0;
	out->stdio_buf = malloc(STDIO_BUFFER);
	if (!out->stdio_buf || setvbuf(out->f, out->stdio_buf, _IOFBF, STDIO_BUFFER))
		return -ENOMEM;
	return 0;
}

bool output_ok(const struct output *out)
{
	return !out->closed && !out->error;
}

/* Records why a write failed; EPIPE means the reader is gone, which ends the trace
 * quietly (`./example | head -1`). */
static void write_failed(struct output *out)
{
	if (errno == EPIPE)
		out->closed = true;
	else
		out->error = errno ? errno : EIO;
}

/* Room for n bytes and the NUL bootstrap_event_json adds when it fits. */
static bool reserve(struct output *out, size_t n)
{
	size_t cap = out->cap;
	char *grown;

	while (cap < n + 1)
		cap *= 2;
	if (cap == out->cap)
		return true;
	grown = realloc(out->line, cap);
	if (!grown)
		return false;
	out->line = grown;
	out->cap = cap;
	return true;
}

/* One line, serialized by fn(what, buf, cap) (which returns the size needed, as
 * snprintf does) into the line buffer, grown when it is too small, and written.
 * Non-zero once the output can take no more. */
static int write_line(struct output *out, size_t (*fn)(const void *what, char *buf, size_t cap), const void *what)
{
	size_t n;

	if (!output_ok(out))
		return 1;
	n = fn(what, out->line, out->cap);
	if (n >= out->cap) {
		if (!reserve(out, n)) {
			out->error = ENOMEM;
			return 1;
		}
		n = fn(what, out->line, out->cap);
	}
	if (fwrite(out->line, 1, n, out->f) != n) {
		write_failed(out);
		return 1;
	}
	return 0;
}

static size_t event_line(const void *ev, char *buf, size_t cap)
{
	return bootstrap_event_json(ev, buf, cap);
}

int output_event(void *ctx, const struct bootstrap_event *ev)
{
	struct output *out = ctx;

	if (out->folded && output_ok(out)) {
		out->error = -folded_add(out->folded, ev);
		return out->error != 0;
	}
	return write_line(out, event_line, ev);
}

struct agg_row {
	const struct bootstrap_aggregates *all;
	const struct bootstrap_agg_table *table;
	size_t row;
};

static size_t aggregate_line(const void *what, char *buf, size_t cap)
{
	const struct agg_row *r = what;

	return bootstrap_aggregate_json(r->all, r->table, r->row, buf, cap);
}

int output_aggregates(struct output *out, struct bootstrap *b)
{
	struct bootstrap_aggregates *a;
	struct agg_row r;
	int err = bootstrap_aggregates_read(b, BOOTSTRAP_AGG_TOTALS, &a);

	if (err)
		return err;
	r.all = a;
	for (size_t t = 0; t < a->n_tables; t++)
		for (r.table = &a->tables[t], r.row = 0; r.row < r.table->n_rows; r.row++)
			if (write_line(out, aggregate_line, &r))
				break;
	bootstrap_aggregates_free(a);
	return 0;
}

bool output_flush(struct output *out)
{
	if (output_ok(out) && fflush(out->f) != 0)
		write_failed(out);
	return output_ok(out);
}

int output_close(struct output *out)
{
	int err = out->folded && output_ok(out) ? folded_write(out->folded, out->f) : 0;

	if (err)
		out->error = -err;
	folded_free(out->folded);
	output_flush(out);
	/* After EPIPE, stdio still holds the lines nobody will read: drop them, so that
	 * fclose does not try (and fail) once more. */
	if (out->closed)
		__fpurge(out->f);
	if (fclose(out->f) != 0 && !out->closed && !out->error)
		out->error = errno;
	free(out->line);
	free(out->stdio_buf);
	return out->error;
}
