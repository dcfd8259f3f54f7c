/* options.h: the command line of ./example, parsed and checked before anything starts. */
#ifndef CLI_OPTIONS_H
#define CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "probes.h"

enum mode { MODE_TRACE, MODE_LIST, MODE_CHECK, MODE_TOP, MODE_HELP, MODE_VERSION };

struct options {
	enum mode mode;
	const char *events;        /* -e: globs, NULL = every event */
	pid_t *pids;               /* -p, repeatable */
	size_t n_pids;
	bool follow;               /* -f: also the processes the -p ones fork */
	const char *comm;          /* -c */
	double duration;           /* -d: seconds, 0 = until stopped */
	const char *output;        /* -o: NULL = stdout */
	bool stats;                /* --stats */
	int verbose;               /* -v, repeatable */
	size_t ringbuf_bytes;      /* 0 = the library's default */
	size_t arena_bytes;
	bool strict;
	bool trace_readers;        /* --trace-readers: do not leave the output's readers out */
	bool folded;               /* --folded: folded stacks at exit instead of NDJSON lines */
	char *folded_events;       /* --folded without -e: the events with stacks (events points here) */
	unsigned int frequency;    /* -F: sampling events at this rate; 0 = as declared */
	struct probes probes;      /* --kprobe ... --tracepoint, --binary, --uprobe-pid */
	char **command;            /* after --: argv of COMMAND, NULL-terminated */
	double interval;           /* -i: aggregate lines every SECONDS (0: at exit only); top's refresh */
	size_t agg_entries;        /* --agg-entries: keys per aggregation, 0 = the library's default */
};

/* Fills opts from argv. Returns 0, or EXIT_USAGE after printing what is wrong. */
int parse_options(int argc, char **argv, struct options *opts);
void print_help(void);
/* Says what is wrong with the command line (fmt has one %s, arg); returns EXIT_USAGE. */
int usage_error(const char *fmt, const char *arg);
void free_options(struct options *opts);
/* The library options the command line asks for (what tracing and top share). */
struct bootstrap_opts options_library(const struct options *o);

#endif
