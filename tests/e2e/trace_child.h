/* trace_child.h: runs a function in a child process traced from its first instruction
 * and keeps a copy of every event it (and its descendants) produced, for assertions. */
#ifndef TRACE_CHILD_H
#define TRACE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "bootstrap.h"

struct captured_var {
	char *data;  /* NULL when lost */
	uint32_t len;
	bool truncated, lost;
};

struct captured {
	struct bootstrap_header hdr;
	unsigned char payload[BOOTSTRAP_MAX_PAYLOAD_SIZE];
	struct captured_var vars[BOOTSTRAP_MAX_FIELDS];
	char *json;  /* bootstrap_event_json() of the event */
};

struct trace_result {
	struct captured *events;
	size_t n;
	pid_t child;
	int status;  /* from wait4 */
	struct rusage rusage; /* the child's own (its user and system time), from wait4 */
	struct bootstrap_stats stats;
};

struct trace_opts {
	const char *events;           /* NULL = all */
	size_t ringbuf_bytes;         /* 0 = library default */
	size_t arena_bytes_per_cpu;
	bool keep_nothing;            /* count only: for overload runs */
	const struct bootstrap_attach *attach; /* run-time targets */
	size_t n_attach;
	struct log_lines *log;        /* NULL: the library's messages go to stderr */
	/* Called once tracing is on, before the child runs (may be NULL). */
	void (*on_open)(struct bootstrap *b, pid_t child);
	/* Called for every event during the run (may be NULL). */
	void (*on_event)(void *ctx, const struct bootstrap_event *ev);
	void *ctx;
};

/* The library's warnings during a run, one per line. */
#define LOG_LINES_MAX 16
struct log_lines {
	char lines[LOG_LINES_MAX][512];
	size_t n;
};
void log_lines_add(void *ctx, enum bootstrap_log_level level, const char *msg);

/* Whether this kernel must capture kprobes: BOOTSTRAP_EXPECT_KPROBES=1 or 0 says so (the
 * VM run sets it per kernel); unset, /proc/kallsyms decides (register_kprobe is there
 * exactly when CONFIG_KPROBES is), which is not how the library finds out, so a library
 * that wrongly finds no kprobes fails the tests instead of choosing their skip path. */
bool kprobes_expected(void);
/* The library's reason for skipping a kprobe target on a kernel without them. */
#define NO_KPROBES "this kernel has no kprobes (CONFIG_KPROBES is off)"

/* Forks; the child waits until tracing is on, runs fn(arg) and exits with its return. */
void trace_child(const struct trace_opts *opts, int (*fn)(void *arg), void *arg, struct trace_result *out);
void trace_result_free(struct trace_result *r);

/* The n-th event (0-based) of type index produced by pid (0 = any), or NULL. */
const struct captured *find_event(const struct trace_result *r, int index, pid_t pid, size_t nth);
size_t count_events(const struct trace_result *r, int index, pid_t pid);

/* build/tests/fixtures/probe_target, found from this binary (build/tests/e2e). */
const char *probe_target_path(void);

/* A workload size from the environment variable name (the VM runs smaller ones), or
 * dflt when it is unset; anything but a count from 1 to 10,000,000 fails the test. */
uint32_t count_from_env(const char *name, uint32_t dflt);

#define PAYLOAD(c, name) ((const struct bootstrap_payload_##name *)(c)->payload)

#endif
