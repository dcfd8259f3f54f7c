/* top.c: `./example top`: processes ranked by event rate, refreshed every second (-i).
 *
 * A view built on the library's event delivery: every selected event is delivered (as
 * `./example` would print it) and counted here by process, from its header alone; each
 * refresh turns the counts since the previous one into rates. Events of kinds without a
 * task (xdp) have no process and are left out. Events dropped on the way (a full ring
 * buffer) are not in the rates: the title says how many there were. On a terminal the
 * table is drawn full-screen with ncurses (keys: < > or the arrows choose the sort
 * column, q quits); otherwise each refresh prints it as a text snapshot. */
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "cli.h"
#include "clock.h"
#include "signals.h"

#define DEFAULT_REFRESH_S 1.0
#define PID_W 8
#define COMM_W 16
#define RATE_MIN_W 9
/* Events per bootstrap_poll(): a stream that never pauses still lets keys and signals in. */
#define BATCH_EVENTS 4096

struct proc {
	uint32_t pid;
	char comm[BOOTSTRAP_COMM_LEN];     /* of its latest event */
	uint64_t count[BOOTSTRAP_N_EVENTS]; /* since the previous refresh */
	double rate[BOOTSTRAP_N_EVENTS];   /* events/s over the last interval */
	double total;
};

/* Processes, found by pid through an open-addressing index (slot: position + 1, 0 free)
 * kept at most half full, so that counting an event costs the same with 10 or 100,000
 * processes. */
struct procs {
	struct proc *v;
	size_t n, cap;
	uint32_t *slots;
	size_t n_slots;
};

struct top {
	struct bootstrap *b;
	struct signals sig;
	bool tty;
	double refresh_s;
	struct procs counting;             /* the current interval's */
	struct procs shown;                /* the last refresh's, sorted */
	unsigned int batch;                /* events in this bootstrap_poll() */
	bool failed;                       /* out of memory while counting */
	double secs;                       /* the last interval */
	uint64_t dropped, dropped_before;  /* in the last interval; in total before it */
	bool seen[BOOTSTRAP_N_EVENTS];     /* a column once its event was seen (they stay put) */
	int cols[BOOTSTRAP_N_EVENTS];
	int n_cols;
	int sort;                          /* 0: total, k > 0: column k - 1 */
};

static size_t slot_of(const struct procs *ps, uint32_t pid)
{
	size_t mask = ps->n_slots - 1, i = (pid * 2654435761u) & mask;

	while (ps->slots[i] && ps->v[ps->slots[i] - 1].pid != pid)
		i = (i + 1) & mask;
	return i;
}

static int grow(struct procs *ps)
{
	size_t cap = ps->cap ? 2 * ps->cap : 256;
	struct proc *v = realloc(ps->v, cap * sizeof(*v));
	uint32_t *slots;

	if (!v)
		return -ENOMEM;
	ps->v = v;
	ps->cap = cap;
	slots = calloc(2 * cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(ps->slots);
	ps->slots = slots;
	ps->n_slots = 2 * cap;
	for (size_t k = 0; k < ps->n; k++)
		ps->slots[slot_of(ps, ps->v[k].pid)] = k + 1;
	return 0;
}

static struct proc *proc_of(struct procs *ps, uint32_t pid)
{
	size_t i;

	if (ps->n_slots && ps->slots[i = slot_of(ps, pid)])
		return &ps->v[ps->slots[i] - 1];
	if (ps->n == ps->cap && grow(ps))
		return NULL;
	memset(&ps->v[ps->n], 0, sizeof(ps->v[0]));
	ps->v[ps->n].pid = pid;
	ps->slots[slot_of(ps, pid)] = ps->n + 1;
	return &ps->v[ps->n++];
}

static void procs_clear(struct procs *ps)
{
	ps->n = 0;
	if (ps->slots)
		memset(ps->slots, 0, ps->n_slots * sizeof(*ps->slots));
}

static void procs_free(struct procs *ps)
{
	free(ps->v);
	free(ps->slots);
}

static int on_event(void *ctx, const struct bootstrap_event *ev)
{
	struct top *t = ctx;
	const struct bootstrap_header *h = ev->hdr;
	struct proc *p;

	if (bootstrap_events[h->event_index].kind == BOOTSTRAP_KIND_XDP)
		return 0;
	p = proc_of(&t->counting, h->pid);
	if (!p) {
		t->failed = true;
		return 1;
	}
	p->count[h->event_index]++;
	memcpy(p->comm, h->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	return ++t->batch >= BATCH_EVENTS;
}

/* Counts a batch of the events that are ready: how many (BATCH_EVENTS: maybe more are
 * ready), or a negative errno. */
static int count_events(struct top *t)
{
	int n;

	t->batch = 0;
	n = bootstrap_poll(t->b, 0, on_event, t);
	if (t->failed)
		return -ENOMEM;
	return n == -ECANCELED ? 0 : n;
}

/* Events the kernel dropped (no room in the ring buffer, no arena reservation) or the
 * library refused (malformed records), since the open. */
static uint64_t dropped_total(struct bootstrap *b)
{
	struct bootstrap_stats s = { .sz = sizeof(s) };

	if (bootstrap_stats(b, &s))
		return 0;
	return s.total.ringbuf_full + s.total.arena_busy + s.records_malformed;
}

/* The name it has now, when it still runs (the kernel's is the one its events had). */
static void current_comm(struct proc *p)
{
	char path[32], name[BOOTSTRAP_COMM_LEN + 2];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(name, sizeof(name), f)) {
		name[strcspn(name, "\n")] = '\0';
		snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(p->comm) - 1, name);
	}
	fclose(f);
}

static double sort_value(const struct top *t, const struct proc *p)
{
	return t->sort ? p->rate[t->cols[t->sort - 1]] : p->total;
}

static int by_rate(const void *a, const void *b, void *top)
{
	double x = sort_value(top, a), y = sort_value(top, b);
	const struct proc *p = a, *q = b;

	if (x != y)
		return x < y ? 1 : -1;
	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

static void sort_procs(struct top *t)
{
	qsort_r(t->shown.v, t->shown.n, sizeof(t->shown.v[0]), by_rate, t);
}

/* One refresh, secs after the previous one: the counts since then become the rows, as
 * rates, and counting starts over. */
static int collect(struct top *t, double secs)
{
	struct procs done;
	int err = count_events(t);

	if (err < 0)
		return err;
	t->secs = secs;
	t->dropped = dropped_total(t->b) - t->dropped_before;
	t->dropped_before += t->dropped;
	for (size_t i = 0; i < t->counting.n; i++) {
		struct proc *p = &t->counting.v[i];

		for (int e = 0; e < BOOTSTRAP_N_EVENTS; e++) {
			p->rate[e] = p->count[e] / secs;
			p->total += p->rate[e];
			t->seen[e] |= p->count[e] > 0;
		}
		current_comm(p);
	}
	done = t->shown;
	t->shown = t->counting;
	t->counting = done;
	procs_clear(&t->counting);
	t->n_cols = 0;
	for (int e = 0; e < BOOTSTRAP_N_EVENTS; e++)
		if (t->seen[e])
			t->cols[t->n_cols++] = e;
	if (t->sort > t->n_cols)
		t->sort = 0;
	sort_procs(t);
	return 0;
}

static const char *column_name(int e)
{
	const char *slash = strchr(bootstrap_events[e].type_name, '/');

	return slash ? slash + 1 : bootstrap_events[e].type_name;
}

static int column_width(int e)
{
	int n = (int)strlen(column_name(e)) + 2; /* a space before, the sort mark after */

	return n < RATE_MIN_W ? RATE_MIN_W : n;
}

/* The columns that fit in width (all of them for text snapshots: width 0). */
static int fitting_columns(const struct top *t, int width)
{
	int used = PID_W + 1 + COMM_W + RATE_MIN_W, n = 0;

	while (n < t->n_cols && (!width || used + column_width(t->cols[n]) <= width))
		used += column_width(t->cols[n++]);
	return n;
}

/* The header and row lines, each through emit(line, highlighted, ctx). */
static void table_lines(const struct top *t, int width, size_t max_rows,
			void (*emit)(const char *line, bool header, void *ctx), void *ctx)
{
	int n_cols = fitting_columns(t, width);
	char line[4096];
	size_t len;

	len = snprintf(line, sizeof(line), "%*s %-*s %*s%s", PID_W, "PID", COMM_W, "COMM", RATE_MIN_W - 1, "total/s",
		       t->sort == 0 ? "*" : " ");
	for (int c = 0; c < n_cols && len < sizeof(line); c++)
		len += snprintf(line + len, sizeof(line) - len, "%*s%s", column_width(t->cols[c]) - 1,
				column_name(t->cols[c]), t->sort == c + 1 ? "*" : " ");
	emit(line, true, ctx);
	for (size_t i = 0; i < t->shown.n && i < max_rows; i++) {
		const struct proc *p = &t->shown.v[i];

		len = snprintf(line, sizeof(line), "%*u %-*s %*.0f ", PID_W, p->pid, COMM_W, p->comm, RATE_MIN_W - 1, p->total);
		for (int c = 0; c < n_cols && len < sizeof(line); c++)
			len += snprintf(line + len, sizeof(line) - len, "%*.0f ", column_width(t->cols[c]) - 1,
					p->rate[t->cols[c]]);
		emit(line, false, ctx);
	}
}

static void print_line(const char *line, bool header, void *ctx)
{
	(void)header;
	(void)ctx;
	puts(line);
}

static void draw_line(const char *line, bool header, void *ctx)
{
	int *y = ctx;

	if (header)
		attron(A_REVERSE);
	mvaddnstr((*y)++, 0, line, COLS);
	if (header)
		attroff(A_REVERSE);
}

static double total_rate(const struct top *t)
{
	double sum = 0;

	for (size_t i = 0; i < t->shown.n; i++)
		sum += t->shown.v[i].total;
	return sum;
}

static void show(const struct top *t)
{
	time_t now = time(NULL);
	char when[32], title[256];
	size_t len;
	int y = 2;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	len = snprintf(title, sizeof(title), "example top %s: %zu processes, %.0f events/s", when, t->shown.n,
		       total_rate(t));
	if (!t->tty && len < sizeof(title))
		len += snprintf(title + len, sizeof(title) - len, " over %.2fs", t->secs);
	if (t->dropped && len < sizeof(title))
		snprintf(title + len, sizeof(title) - len, ", %" PRIu64 " dropped", t->dropped);
	if (!t->tty) {
		puts(title);
		table_lines(t, 0, (size_t)-1, print_line, NULL);
		putchar('\n');
		fflush(stdout);
		return;
	}
	erase();
	mvaddnstr(0, 0, title, COLS);
	mvaddnstr(1, 0, "sort: < > (or the arrows), quit: q; * marks the sort column", COLS);
	table_lines(t, COLS, LINES > 3 ? (size_t)(LINES - 3) : 0, draw_line, &y);
	refresh();
}

/* Keys; false when the user quit. */
static bool on_keys(struct top *t)
{
	int ch;

	while ((ch = getch()) != ERR) {
		if (ch == 'q' || ch == 'Q')
			return false;
		if (ch == '<' || ch == KEY_LEFT)
			t->sort = t->sort ? t->sort - 1 : t->n_cols;
		else if (ch == '>' || ch == KEY_RIGHT)
			t->sort = t->sort < t->n_cols ? t->sort + 1 : 0;
		else
			continue;
		sort_procs(t);
		show(t);
	}
	return true;
}

static double monotonic_s(void)
{
	return bs_clock_ns(CLOCK_MONOTONIC) / 1e9;
}

/* Counts and refreshes until a stop signal, q, or -d; returns an exit status. */
static int run(struct top *t, double duration)
{
	double start = monotonic_s(), last = start, next = start + t->refresh_s;
	bool from_terminal, more = false;

	for (;;) {
		struct pollfd fds[3] = { { t->sig.fd, POLLIN, 0 }, { bootstrap_epoll_fd(t->b), POLLIN, 0 },
					 { STDIN_FILENO, POLLIN, 0 } };
		double now = monotonic_s();
		int timeout = more ? 0 : (int)((next - now) * 1000) + 1, err = 0;

		if (duration && now >= start + duration)
			return EXIT_OK;
		if (now >= next) {
			err = collect(t, now - last);
			if (!err) {
				show(t);
				last = now;
				next += t->refresh_s;
				continue;
			}
		} else if (poll(fds, t->tty ? 3 : 2, timeout) < 0 && errno != EINTR) {
			return EXIT_RUNTIME;
		} else if (more || fds[1].revents) {
			err = count_events(t);
			more = err == BATCH_EVENTS;
		}
		if (err < 0) {
			fprintf(stderr, "example: counting the events failed: %s\n", bootstrap_strerror(err));
			return EXIT_RUNTIME;
		}
		if (signals_read(&t->sig, &from_terminal))
			return EXIT_OK;
		if (t->tty && !on_keys(t))
			return EXIT_OK;
	}
}

int run_top(const struct options *opts)
{
	struct top t = { .refresh_s = opts->interval > 0 ? opts->interval : DEFAULT_REFRESH_S,
			 .tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) };
	struct bootstrap_opts bo = options_library(opts);
	int err, rc;

	err = signals_setup(&t.sig);
	if (err) {
		fprintf(stderr, "example: setting up signals failed: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	err = bootstrap_open(&bo, &t.b);
	if (err) {
		fprintf(stderr, "example: cannot start tracing: %s\n", bootstrap_strerror(err));
		return EXIT_RUNTIME;
	}
	if (t.tty) {
		initscr();
		cbreak();
		noecho();
		nodelay(stdscr, TRUE);
		keypad(stdscr, TRUE);
		curs_set(0);
	}
	rc = run(&t, opts->duration);
	if (t.tty)
		endwin();
	bootstrap_close(t.b);
	procs_free(&t.counting);
	procs_free(&t.shown);
	return rc;
}
