/* trace_child.c: see trace_child.h. The child blocks on a pipe until bootstrap_open()
 * has put its pid in the in-kernel filter, so its very first syscall is traced. */
#include <criterion/criterion.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_child.h"

struct collector {
	const struct trace_opts *opts;
	struct trace_result *out;
	size_t cap;
};

static int collect(void *ctx, const struct bootstrap_event *ev)
{
	struct collector *c = ctx;
	struct captured *e;
	size_t need;

	if (c->opts->on_event)
		c->opts->on_event(c->opts->ctx, ev);
	if (c->opts->keep_nothing)
		return 0;
	if (c->out->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->out->events = realloc(c->out->events, c->cap * sizeof(*e));
		cr_assert_not_null(c->out->events);
	}
	e = &c->out->events[c->out->n++];
	memset(e, 0, sizeof(*e));
	e->hdr = *ev->hdr;
	memcpy(e->payload, ev->payload, ev->info->payload_size);
	for (uint32_t i = 0; i < ev->info->n_vars; i++) {
		const struct bootstrap_field_value *v = &ev->vars[i];

		e->vars[i].len = v->len;
		e->vars[i].truncated = v->truncated;
		e->vars[i].lost = v->lost;
		if (v->data) {
			e->vars[i].data = malloc(v->len + 1);
			memcpy(e->vars[i].data, v->data, v->len);
			e->vars[i].data[v->len] = 0;
		}
	}
	need = bootstrap_event_json(ev, NULL, 0);
	e->json = malloc(need + 1);
	cr_assert_eq(bootstrap_event_json(ev, e->json, need + 1), need);
	return 0;
}

void trace_child(const struct trace_opts *opts, int (*fn)(void *arg), void *arg, struct trace_result *out)
{
	struct bootstrap_opts bo = { .sz = sizeof(bo) };
	struct collector c = { .opts = opts, .out = out };
	struct bootstrap *b;
	int go[2], err;
	char byte = 1;

	memset(out, 0, sizeof(*out));
	cr_assert_eq(pipe(go), 0);
	out->child = fork();
	cr_assert_geq(out->child, 0);
	if (out->child == 0) {
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(100);
		close(go[0]);
		_exit(fn(arg));
	}
	close(go[0]);
	bo.events = opts->events;
	bo.pids = &out->child;
	bo.n_pids = 1;
	bo.follow_children = true;
	bo.ringbuf_bytes = opts->ringbuf_bytes;
	bo.arena_bytes_per_cpu = opts->arena_bytes_per_cpu;
	bo.attach = opts->attach;
	bo.n_attach = opts->n_attach;
	if (opts->log) {
		bo.log = log_lines_add;
		bo.log_ctx = opts->log;
	}
	err = bootstrap_open(&bo, &b);
	cr_assert_eq(err, 0, "bootstrap_open: %s", bootstrap_strerror(err));
	if (opts->on_open)
		opts->on_open(b, out->child);
	cr_assert_eq(write(go[1], &byte, 1), 1);
	close(go[1]);
	for (;;) {
		pid_t w = wait4(out->child, &out->status, WNOHANG, &out->rusage);

		cr_assert_geq(bootstrap_poll(b, 20, collect, &c), 0);
		if (w == out->child)
			break;
	}
	/* Everything the child did is in the ring buffer by now: drain it. */
	while ((err = bootstrap_poll(b, 0, collect, &c)) > 0)
		;
	cr_assert_eq(err, 0);
	out->stats.sz = sizeof(out->stats);
	cr_assert_eq(bootstrap_stats(b, &out->stats), 0);
	cr_assert_eq(out->stats.records_malformed, 0, "a record the kernel wrote failed the reader's checks");
	bootstrap_close(b);
}

void log_lines_add(void *ctx, enum bootstrap_log_level level, const char *msg)
{
	struct log_lines *l = ctx;

	if (level != BOOTSTRAP_LOG_WARN)
		return;
	cr_assert_lt(l->n, LOG_LINES_MAX, "more warnings than expected, the last: %s", msg);
	snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s", msg);
}

void trace_result_free(struct trace_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		for (int v = 0; v < BOOTSTRAP_MAX_FIELDS; v++)
			free(r->events[i].vars[v].data);
		free(r->events[i].json);
	}
	free(r->events);
}

const struct captured *find_event(const struct trace_result *r, int index, pid_t pid, size_t nth)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct captured *e = &r->events[i];

		if (e->hdr.event_index == index && (!pid || e->hdr.pid == (__u32)pid) && nth-- == 0)
			return e;
	}
	return NULL;
}

size_t count_events(const struct trace_result *r, int index, pid_t pid)
{
	size_t n = 0;

	while (find_event(r, index, pid, n))
		n++;
	return n;
}

bool kprobes_expected(void)
{
	const char *env = getenv("BOOTSTRAP_EXPECT_KPROBES");
	char line[256];
	bool found = false;
	FILE *f;

	if (env)
		return strcmp(env, "1") == 0;
	f = fopen("/proc/kallsyms", "re");
	cr_assert_not_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " register_kprobe\n") != NULL;
	fclose(f);
	return found;
}

const char *probe_target_path(void)
{
	static char path[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert_gt(n, 0);
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/fixtures/probe_target", dirname(self));
	cr_assert_eq(access(path, X_OK), 0, "%s is not built", path);
	return path;
}

uint32_t count_from_env(const char *name, uint32_t dflt)
{
	const char *s = getenv(name);
	unsigned long n;
	char *end;

	if (!s)
		return dflt;
	n = strtoul(s, &end, 10);
	cr_assert(*s && !*end && n > 0 && n <= 10000000, "%s=%s is not a positive count", name, s);
	return n;
}
