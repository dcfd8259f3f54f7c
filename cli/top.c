/* top.c: `./example top`: processes ranked by event rate, refreshed every second (-i).
 *
 * The library counts every event per process in the kernel (opts.top: the built-in
 * aggregation keyed by process, event and comm) and sends none; each refresh reads what
 * changed since the previous one (BOOTSTRAP_AGG_DELTA) and divides by the interval. On a
 * terminal the table is drawn full-screen with ncurses (keys: < > or the arrows choose
 * the sort column, q quits); otherwise each refresh prints it as a text snapshot. */
#include <curses.h>
#include <errno.h>
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

struct proc {
	uint32_t pid;
	char comm[BOOTSTRAP_COMM_LEN];
	uint64_t comm_count;               /* the events of the row comm came from */
	double rate[BOOTSTRAP_N_EVENTS];   /* events/s */
	double total;
};

struct top {
	struct bootstrap *b;
	struct signals sig;
	bool tty;
	double refresh_s;
	struct proc *procs;
	size_t n, cap;
	double secs;                       /* the last interval */
	bool seen[BOOTSTRAP_N_EVENTS];     /* a column once its event was seen (they stay put) */
	int cols[BOOTSTRAP_N_EVENTS];
	int n_cols;
	int sort;                          /* 0: total, k > 0: column k - 1 */
};

static struct proc *proc_of(struct top *t, uint32_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct proc *grown = realloc(t->procs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->procs = grown;
		t->cap = cap;
	}
	memset(&t->procs[t->n], 0, sizeof(t->procs[0]));
	t->procs[t->n].pid = pid;
	return &t->procs[t->n++];
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
	qsort_r(t->procs, t->n, sizeof(t->procs[0]), by_rate, t);
}

/* One refresh: the counts since the previous one, per process, as rates. */
static int collect(struct top *t)
{
	struct bootstrap_aggregates *a;
	int err = bootstrap_aggregates_read(t->b, BOOTSTRAP_AGG_DELTA, &a);

	if (err)
		return err;
	t->n = 0;
	t->secs = a->interval_ns / 1e9;
	for (size_t k = 0; k < a->n_tables; k++) {
		const struct bootstrap_agg_table *tab = &a->tables[k];

		for (size_t r = 0; r < tab->n_rows; r++) {
			const struct bootstrap_top_key *key = tab->rows[r].key;
			uint64_t count = tab->rows[r].count;
			struct proc *p = proc_of(t, key->tgid);

			if (!p) {
				bootstrap_aggregates_free(a);
				return -ENOMEM;
			}
			if (key->event_index >= BOOTSTRAP_N_EVENTS)
				continue;
			p->rate[key->event_index] += count / t->secs;
			p->total += count / t->secs;
			t->seen[key->event_index] = true;
			if (count > p->comm_count) {
				memcpy(p->comm, key->comm, sizeof(p->comm));
				p->comm[sizeof(p->comm) - 1] = '\0';
				p->comm_count = count;
			}
		}
	}
	bootstrap_aggregates_free(a);
	for (size_t i = 0; i < t->n; i++)
		current_comm(&t->procs[i]);
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
	for (size_t i = 0; i < t->n && i < max_rows; i++) {
		const struct proc *p = &t->procs[i];

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

	for (size_t i = 0; i < t->n; i++)
		sum += t->procs[i].total;
	return sum;
}

static void show(const struct top *t)
{
	time_t now = time(NULL);
	char when[32];
	int y = 2;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (!t->tty) {
		printf("example top %s: %zu processes, %.0f events/s over %.2fs\n", when, t->n, total_rate(t), t->secs);
		table_lines(t, 0, (size_t)-1, print_line, NULL);
		putchar('\n');
		fflush(stdout);
		return;
	}
	erase();
	mvprintw(0, 0, "example top %s: %zu processes, %.0f events/s", when, t->n, total_rate(t));
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

/* Refreshes until a stop signal, q, or -d; returns an exit status. */
static int run(struct top *t, double duration)
{
	double start = monotonic_s(), next = start + t->refresh_s;
	bool from_terminal;

	for (;;) {
		struct pollfd fds[2] = { { t->sig.fd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		double now = monotonic_s();
		int err;

		if (duration && now >= start + duration)
			return EXIT_OK;
		if (now >= next) {
			err = collect(t);
			if (err) {
				fprintf(stderr, "example: reading the counts failed: %s\n", bootstrap_strerror(err));
				return EXIT_RUNTIME;
			}
			show(t);
			next += t->refresh_s;
			continue;
		}
		if (poll(fds, t->tty ? 2 : 1, (int)((next - now) * 1000) + 1) < 0 && errno != EINTR)
			return EXIT_RUNTIME;
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

	bo.top = true;
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
	free(t.procs);
	return rc;
}
