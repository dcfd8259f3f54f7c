/* options.c: getopt_long parsing of ./example's command line, in the conventions of
 * libbpf-tools, with every check that can be made before tracing starts, so that a
 * mistake is a usage error (status 2) rather than a failure halfway through. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "cli.h"
#include "sampling.h"

#define STRINGIFY(x) #x
#define NUMBER_TEXT(x) STRINGIFY(x)

enum {
	OPT_STATS = 256, OPT_RINGBUF, OPT_ARENA, OPT_STRICT, OPT_TRACE_READERS, OPT_AGG_ENTRIES, OPT_IFACE,
	OPT_BINARY, OPT_UPROBE_PID, OPT_FOLDED,
	OPT_PROBE, /* OPT_PROBE + kind: --KIND TARGET, the probe option of a kind (bootstrap_kinds[]) */
};

static const struct option long_options[] = {
	{ "events", required_argument, NULL, 'e' },
	{ "pid", required_argument, NULL, 'p' },
	{ "follow", no_argument, NULL, 'f' },
	{ "comm", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "list", no_argument, NULL, 'l' },
	{ "ringbuf-bytes", required_argument, NULL, OPT_RINGBUF },
	{ "arena-bytes", required_argument, NULL, OPT_ARENA },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "trace-readers", no_argument, NULL, OPT_TRACE_READERS },
	{ "folded", no_argument, NULL, OPT_FOLDED },
	{ "frequency", required_argument, NULL, 'F' },
	{ "interval", required_argument, NULL, 'i' },
	{ "agg-entries", required_argument, NULL, OPT_AGG_ENTRIES },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "binary", required_argument, NULL, OPT_BINARY },
	{ "uprobe-pid", required_argument, NULL, OPT_UPROBE_PID },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

#define N_LONG_OPTIONS (sizeof(long_options) / sizeof(long_options[0]) - 1)

/* long_options, then the probe option of every kind that has one. */
static struct option all_options[N_LONG_OPTIONS + BOOTSTRAP_N_KINDS + 1];

static void add_probe_options(void)
{
	size_t n = N_LONG_OPTIONS;

	memcpy(all_options, long_options, sizeof(long_options) - sizeof(long_options[0]));
	for (int k = 0; k < BOOTSTRAP_N_KINDS; k++)
		if (bootstrap_kinds[k].arg_name)
			all_options[n++] = (struct option){ bootstrap_kinds[k].name, required_argument, NULL, OPT_PROBE + k };
	all_options[n] = (struct option){ 0 };
}

/* "--tracepoint, --kprobe ... or --uretprobe": the probe options, for messages. */
static void probe_option_list(char *out, size_t cap)
{
	int n = 0, seen = 0;
	size_t len = 0;

	for (int k = 0; k < BOOTSTRAP_N_KINDS; k++)
		n += bootstrap_kinds[k].arg_name != NULL;
	out[0] = '\0';
	for (int k = 0; k < BOOTSTRAP_N_KINDS && len < cap; k++) {
		if (!bootstrap_kinds[k].arg_name)
			continue;
		seen++;
		len += snprintf(out + len, cap - len, "%s--%s", seen == 1 ? "" : seen == n ? " or " : ", ",
				bootstrap_kinds[k].name);
	}
}

/* "      --uprobe BIN:FUNC       a function's entry ...", its summary's lines aligned. */
static void print_probe_option(const struct bootstrap_kind_info *k)
{
	char option[64];

	snprintf(option, sizeof(option), "--%s %s", k->name, k->arg_name);
	printf("      %-24s", option);
	for (const char *c = k->summary; *c; c++)
		if (*c == '\n')
			printf("\n%30s", "");
		else
			putchar(*c);
	putchar('\n');
}

/* '+': stop at the first non-option, so COMMAND's own options are left alone; ':' lets
 * us word the missing-argument message ourselves. */
static const char short_options[] = "+:e:p:fc:d:o:i:vlhVF:";

void print_help(void)
{
	printf("Usage: example [OPTION...] [-- COMMAND [ARG...]]\n"
	       "       example check\n"
	       "       example top [OPTION...]\n"
	       "Trace the events of events.toml and print one JSON object per line (NDJSON).\n"
	       "\n"
	       "Without COMMAND every process is traced until Ctrl-C, except this one and those at\n"
	       "the other end of its output: the readers of its pipe (jq), the relay of its\n"
	       "terminal (sudo) and what reads that relay (--trace-readers keeps them).\n"
	       "With -- COMMAND, COMMAND is started and it and every process it forks are traced\n"
	       "from its first instruction; the trace ends when COMMAND exits, and example exits\n"
	       "with COMMAND's status (128+N when killed by signal N).\n"
	       "\n"
	       "  -e, --events LIST       only these events: comma-separated category/name globs,\n"
	       "                          e.g. 'syscalls/sys_enter_open*,sched/*' (a glob without\n"
	       "                          '/' matches the name alone)\n"
	       "  -p, --pid PID           only this process, all its threads (repeatable)\n"
	       "  -f, --follow            with -p: also the processes they fork from now on\n"
	       "  -c, --comm NAME         only tasks whose comm is NAME (at most 15 bytes)\n"
	       "  -d, --duration SECONDS  stop after SECONDS (fractions allowed)\n"
	       "  -o, --output FILE       write the events to FILE instead of stdout\n"
	       "      --stats             at exit, print delivery and loss counters on stderr\n"
	       "  -v, --verbose           more messages; with --stats, a counter line every second\n"
	       "  -l, --list              list the events this build knows, their fields and types\n"
	       "      --ringbuf-bytes N   ring buffer size (suffix K, M or G; default 4M)\n"
	       "      --arena-bytes N     payload arena per CPU (at least 64K, rounded up to a power\n"
	       "                          of two; default 4M)\n"
	       "      --strict            fail when an event's target (tracepoint, kernel function,\n"
	       "                          binary, symbol, or kprobes at all) is absent here\n"
	       "                          (default: skip it with one warning line)\n"
	       "      --trace-readers     system-wide, trace the processes reading the output\n"
	       "                          too (default: left out, or the trace feeds on itself)\n"
	       "      --folded            at exit, write the samples' stacks as folded stacks\n"
	       "                          (for flame graphs) instead of one line per event;\n"
	       "                          without -e, the events with stacks (profile/cpu)\n"
	       "  -F, --frequency HZ      sampling events (profile/cpu) at HZ samples a second\n"
	       "                          per CPU instead of their declared rate\n"
	       "  -i, --interval SECONDS  print the aggregations (events.toml `aggregate`) every\n"
	       "                          SECONDS, as totals; they are printed at exit anyway\n"
	       "      --agg-entries N     keys per aggregation map (default 10240); a key past\n"
	       "                          that is counted in aggregate_full (--stats)\n"
	       "      --iface IFACE       attach the xdp events (net/packets) to IFACE\n"
	       "  -h, --help              show this help\n"
	       "  -V, --version           show the version\n"
	       "\n"
	       "Probes, without a rebuild (repeatable; without -e only these are traced, with -e\n"
	       "they are traced besides the -e events). Each is an event probe/KIND whose payload\n"
	       "is the target's name and the raw 64-bit arguments arg0..arg5; return points add\n"
	       "ret and elapsed_ns, with the arguments as they were at the call:\n");
	for (int k = 0; k < BOOTSTRAP_N_KINDS; k++)
		if (bootstrap_kinds[k].arg_name)
			print_probe_option(&bootstrap_kinds[k]);
	printf("      --binary PATH           the uprobe events of events.toml attach to PATH instead\n"
	       "                              of their declared binary (same function)\n"
	       "      --uprobe-pid PID        uprobes only in process PID (repeatable)\n"
	       "A target absent here is skipped with one warning (--strict: an error).\n"
	       "\n"
	       "Sub-command:\n"
	       "  check                   report whether this machine can trace, and each event's\n"
	       "                          target with why it is missing\n"
	       "  top                     processes ranked by event rate, live (a terminal) or as\n"
	       "                          text snapshots (-i SECONDS apart, default 1); -e, -p,\n"
	       "                          -c, -d apply; keys: < > sort column, q quit\n"
	       "\n"
	       "Signals: SIGINT, SIGTERM and SIGHUP end the trace cleanly. With -- COMMAND they are\n"
	       "passed on to COMMAND (a Ctrl-C from the terminal reaches it directly) and the trace\n"
	       "goes on until COMMAND exits; a second signal ends the trace at once.\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime error, 2 usage error, or COMMAND's status.\n");
}

int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "example: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry './example --help' for more information.\n");
	return EXIT_USAGE;
}

/* Appends a PID to a list (-p, --uprobe-pid). */
static int parse_pid(const char *s, pid_t **pids, size_t *n)
{
	char *end;
	long v;
	pid_t *grown;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return usage_error("invalid PID '%s' (a positive process id)", s);
	grown = realloc(*pids, (*n + 1) * sizeof(*grown));
	if (!grown)
		return usage_error("%s", strerror(ENOMEM));
	grown[(*n)++] = (pid_t)v;
	*pids = grown;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* The upper bound keeps the timer's whole seconds within time_t on any machine. */
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > (double)INT_MAX)
		return usage_error("invalid duration '%s' (a positive number of seconds)", s);
	*out = v;
	return 0;
}

/* "4096", "64K", "4M", "1G": binary multiples, as memory sizes usually are. */
static int parse_bytes(const char *s, size_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > (SIZE_MAX >> shift))
		return usage_error("invalid size '%s' (bytes, with an optional K, M or G suffix)", s);
	*out = (size_t)v << shift;
	return 0;
}

static int parse_frequency(const char *s, unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > BOOTSTRAP_MAX_FREQUENCY)
		return usage_error("invalid frequency '%s' (samples a second, 1.." NUMBER_TEXT(BOOTSTRAP_MAX_FREQUENCY) ")",
				   s);
	*out = (unsigned int)v;
	return 0;
}

static int check_events(const char *list)
{
	bool selected[BOOTSTRAP_N_EVENTS];
	char bad[256];
	int n = 0;

	if (bootstrap_select_events(list, selected, bad, sizeof(bad)) == -EINVAL)
		return usage_error("no event matches '%s' (see them with --list)", bad);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		n += selected[i];
	return n ? 0 : usage_error("-e '%s' selects no event (see them with --list)", list);
}

/* Whether the -e list (NULL: every event) selects an event that match() accepts. */
static bool selects(const char *list, bool (*match)(const struct bootstrap_event_info *ev))
{
	bool selected[BOOTSTRAP_N_EVENTS];

	bootstrap_select_events(list, selected, NULL, 0);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		if (selected[i] && match(&bootstrap_events[i]))
			return true;
	return false;
}

static bool is_xdp(const struct bootstrap_event_info *ev)
{
	return ev->kind == BOOTSTRAP_KIND_XDP;
}

static bool is_xdp_without_interface(const struct bootstrap_event_info *ev)
{
	return is_xdp(ev) && !ev->target;
}

/* Not a probe/KIND event, which attaches only to --kprobe … targets (an xdp event's
 * --iface is checked apart). */
static bool has_own_target(const struct bootstrap_event_info *ev)
{
	return ev->target || is_xdp(ev);
}

/* Checks the combinations and values that the library would only reject once started. */
static int check_consistency(const struct options *opts)
{
	char msg[512], list[256];

	if (opts->events && check_events(opts->events))
		return EXIT_USAGE;
	if (opts->mode == MODE_TRACE && opts->events && !opts->probes.n_attach && !selects(opts->events, has_own_target)) {
		probe_option_list(list, sizeof(list));
		snprintf(msg, sizeof(msg), "-e '%s' selects only events that attach to the targets of %s, and none "
			 "is given", opts->events, list);
		return usage_error("%s", msg);
	}
	if (opts->comm && strlen(opts->comm) >= BOOTSTRAP_COMM_LEN)
		return usage_error("comm '%s' is longer than the kernel's 15 bytes", opts->comm);
	if (opts->arena_bytes && opts->arena_bytes < (64u << 10))
		return usage_error("%s", "--arena-bytes must be at least 64K");
	if (opts->probes.iface && !selects(opts->events, is_xdp))
		return usage_error("--iface is for xdp events, and %s selects none", opts->events ? opts->events : "the schema");
	if (opts->events && !opts->probes.iface && selects(opts->events, is_xdp_without_interface))
		return usage_error("%s selects an xdp event without an interface: name one with --iface IFACE",
				   opts->events);
	if (opts->follow && !opts->n_pids)
		return usage_error("%s", "-f follows the processes given with -p; give at least one");
	if (opts->command && opts->n_pids)
		return usage_error("%s", "-p cannot be combined with -- COMMAND (COMMAND is what is traced)");
	if (opts->trace_readers && (opts->command || opts->n_pids))
		return usage_error("%s", "--trace-readers is for system-wide traces (with -p or -- COMMAND "
				   "no reader is left out)");
	if (opts->frequency && !selects_sampling(opts->events))
		return usage_error("%s", "-F sets the rate of sampling events, and none is selected (see -e)");
	if (opts->folded && !selects_stacks(opts->events))
		return usage_error("%s", "--folded needs an event with a stack field (see them with --list)");
	if (opts->command && opts->duration)
		return usage_error("%s", "-d cannot be combined with -- COMMAND (the trace ends when "
				   "COMMAND exits; bound it with timeout(1))");
	return 0;
}

static int parse_option(int c, const char *arg, const char *name, struct options *opts)
{
	if (c >= OPT_PROBE && c < OPT_PROBE + BOOTSTRAP_N_KINDS)
		return probes_add(&opts->probes, bootstrap_kinds[c - OPT_PROBE].name, arg);
	switch (c) {
	case 'e': opts->events = arg; return 0;
	case 'p': return parse_pid(arg, &opts->pids, &opts->n_pids);
	case 'f': opts->follow = true; return 0;
	case 'c': opts->comm = arg; return 0;
	case 'd': return parse_seconds(arg, &opts->duration);
	case 'o': opts->output = arg; return 0;
	case OPT_STATS: opts->stats = true; return 0;
	case 'v': opts->verbose++; return 0;
	case 'l': opts->mode = MODE_LIST; return 0;
	case OPT_RINGBUF: return parse_bytes(arg, &opts->ringbuf_bytes);
	case OPT_ARENA: return parse_bytes(arg, &opts->arena_bytes);
	case OPT_STRICT: opts->strict = true; return 0;
	case OPT_TRACE_READERS: opts->trace_readers = true; return 0;
	case OPT_FOLDED: opts->folded = true; return 0;
	case 'F': return parse_frequency(arg, &opts->frequency);
	case 'i': return parse_seconds(arg, &opts->interval);
	case OPT_AGG_ENTRIES: return parse_bytes(arg, &opts->agg_entries);
	case OPT_IFACE: opts->probes.iface = arg; return 0;
	case OPT_BINARY: opts->probes.binary = arg; return 0;
	case OPT_UPROBE_PID: return parse_pid(arg, &opts->probes.pids, &opts->probes.n_pids);
	case 'h': opts->mode = MODE_HELP; return 0;
	case 'V': opts->mode = MODE_VERSION; return 0;
	case ':': return usage_error("option '%s' needs an argument", name);
	default: return usage_error("unknown option '%s'", name);
	}
}

/* The option just parsed as written, for messages: "--events", or "-x" out of "-vx". */
static const char *option_name(char *const *argv, char *buf)
{
	const char *word = argv[optind - 1];

	if (strncmp(word, "--", 2) == 0 || !optopt)
		return word;
	buf[0] = '-';
	buf[1] = (char)optopt;
	buf[2] = '\0';
	return buf;
}

/* The words after the options: "check", or COMMAND after "--". */
static int parse_operands(int argc, char **argv, bool after_dashes, struct options *opts)
{
	if (optind == argc)
		return after_dashes ? usage_error("%s", "-- needs a COMMAND to run") : 0;
	if (after_dashes) {
		opts->command = &argv[optind];
		return 0;
	}
	if (strcmp(argv[optind], "check") != 0 && strcmp(argv[optind], "top") != 0)
		return usage_error("unexpected argument '%s' (a command to trace goes after --, "
				   "e.g. ./example -- ls)", argv[optind]);
	opts->mode = strcmp(argv[optind], "top") == 0 ? MODE_TOP : MODE_CHECK;
	if (opts->mode == MODE_TOP) {
		optind++;
		return 0;
	}
	if (optind + 1 < argc)
		return usage_error("check takes no argument, got '%s'", argv[optind + 1]);
	return 0;
}

/* Options up to the first operand; last_arg is the last option argument seen. */
static int parse_option_words(int argc, char **argv, struct options *opts, const char **last_arg)
{
	char name[3];
	int c, err;

	while ((c = getopt_long(argc, argv, short_options, all_options, NULL)) != -1) {
		err = parse_option(c, optarg, option_name(argv, name), opts);
		if (err)
			return err;
		*last_arg = optarg;
	}
	return 0;
}

int parse_options(int argc, char **argv, struct options *opts)
{
	const char *last_arg = NULL;
	bool after_dashes;
	int err;

	memset(opts, 0, sizeof(*opts));
	opterr = 0;
	add_probe_options();
	err = parse_option_words(argc, argv, opts, &last_arg);
	if (err || opts->mode == MODE_HELP || opts->mode == MODE_VERSION)
		return err;
	/* getopt swallows a "--" terminator; an option's own argument "--" (-o --) is not one. */
	after_dashes = optind > 1 && strcmp(argv[optind - 1], "--") == 0 && argv[optind - 1] != last_arg;
	err = parse_operands(argc, argv, after_dashes, opts);
	if (err || opts->mode == MODE_CHECK)
		return err;
	/* top takes options after it too: ./example top -e sched/sched_process_exec */
	if (opts->mode == MODE_TOP) {
		err = parse_option_words(argc, argv, opts, &last_arg);
		if (err)
			return err;
		if (optind < argc)
			return usage_error("top takes options only, got '%s'", argv[optind]);
		if (opts->output || opts->probes.iface)
			return usage_error("%s", "top draws on the terminal or prints to stdout: no -o, no --iface "
					   "(a packet has no process)");
	}
	if (opts->mode == MODE_LIST && opts->command)
		return usage_error("%s", "--list takes no COMMAND");
	/* --folded's output is stacks: without -e, it traces the events that have them. */
	if (opts->folded && !opts->events && !(opts->events = opts->folded_events = stack_events()))
		return usage_error("%s", errno == ENOENT ? "--folded needs an event with a stack field, and this "
				   "build has none" : strerror(errno));
	err = check_consistency(opts);
	return err ? err : probes_finish(&opts->probes, &opts->events);
}

void free_options(struct options *opts)
{
	free(opts->pids);
	opts->pids = NULL;
	opts->n_pids = 0;
	probes_free(&opts->probes);
	free(opts->folded_events);
	opts->folded_events = NULL;
}

struct bootstrap_opts options_library(const struct options *o)
{
	struct bootstrap_opts bo = {
		.sz = sizeof(bo),
		.events = o->events,
		.pids = o->pids,
		.n_pids = o->n_pids,
		.follow_children = o->follow,
		.comm = o->comm,
		.ringbuf_bytes = o->ringbuf_bytes,
		.arena_bytes_per_cpu = o->arena_bytes,
		.strict = o->strict,
		.aggregate_entries = o->agg_entries,
		.attach = o->probes.attach,
		.n_attach = o->probes.n_attach,
	};

	return bo;
}
