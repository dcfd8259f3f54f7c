/* folded.c: --folded. Each sample's stacks become one line of folded stacks, the input
 * of flamegraph.pl, inferno and speedscope: "comm;outermost;...;innermost count", the
 * user stack then the kernel one, each frame the function's name alone (offsets would
 * split one function into as many frames as it has instructions), a kernel frame with
 * the usual "_[k]" suffix, a frame without a name as "[module]" or "[unknown]", a lost
 * stack as "[lost]". Identical lines are counted in a hash table and written at exit,
 * sorted, so the counts add up to the samples delivered. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"

#define MAX_FRAMES (BOOTSTRAP_FIELD_MAX_BYTES / 8)

struct entry {
	char *line;
	uint64_t count;
	uint64_t hash;
};

struct folded {
	struct entry *slots;  /* open addressing, a power of two, at most half full */
	size_t cap, n;
	char *buf;            /* the line being built */
	size_t len, buf_cap;
	struct bootstrap_symbol syms[MAX_FRAMES];
};

struct folded *folded_new(void)
{
	struct folded *f = calloc(1, sizeof(*f));

	if (f && !(f->slots = calloc(f->cap = 1024, sizeof(*f->slots)))) {
		free(f);
		return NULL;
	}
	return f;
}

static bool append(struct folded *f, const char *s, size_t n)
{
	if (f->len + n + 1 > f->buf_cap) {
		size_t cap = f->buf_cap ? f->buf_cap : 4096;
		char *grown;

		while (f->len + n + 1 > cap)
			cap *= 2;
		if (!(grown = realloc(f->buf, cap)))
			return false;
		f->buf = grown;
		f->buf_cap = cap;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
	return true;
}

/* A name as one frame: ';' separates frames and the count follows the last blank. */
static bool append_name(struct folded *f, const char *s, size_t n)
{
	size_t at = f->len;

	if (!append(f, s, n))
		return false;
	for (size_t i = at; i < f->len; i++) {
		unsigned char c = f->buf[i];

		if (c == ';' || c <= ' ' || c == 0x7f)
			f->buf[i] = '_';
	}
	return true;
}

static bool append_frame(struct folded *f, const struct bootstrap_symbol *sym, bool kernel)
{
	const char *name = sym->name;

	if (!append(f, ";", 1))
		return false;
	if (name && !append_name(f, name, strlen(name)))
		return false;
	if (!name && sym->module) {
		if (!append(f, "[", 1) || !append_name(f, sym->module, strlen(sym->module)) || !append(f, "]", 1))
			return false;
	} else if (!name && !append(f, "[unknown]", 9)) {
		return false;
	}
	return !kernel || append(f, "_[k]", 4);
}

/* One stack field, outermost frame first. */
static bool append_stack(struct folded *f, const struct bootstrap_event *ev, const struct bootstrap_field_value *v,
			 bool kernel)
{
	uint64_t addrs[MAX_FRAMES];
	size_t n = v->len / sizeof(uint64_t);

	if (v->lost || !v->data)
		return append(f, ";[lost]", 7);
	memcpy(addrs, v->data, n * sizeof(uint64_t));
	memset(f->syms, 0, n * sizeof(f->syms[0]));
	if (ev->symbolizer)
		bootstrap_symbolize(ev->symbolizer, kernel ? 0 : (pid_t)ev->hdr->pid, ev->hdr->upid, addrs, n, f->syms);
	while (n--) {
		if (!append_frame(f, &f->syms[n], kernel))
			return false;
	}
	return true;
}

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct entry *slot(struct entry *slots, size_t cap, const char *line, uint64_t h)
{
	size_t i = h & (cap - 1);

	while (slots[i].line && (slots[i].hash != h || strcmp(slots[i].line, line) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool grow(struct folded *f)
{
	size_t cap = f->cap * 2;
	struct entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < f->cap; i++) {
		if (f->slots[i].line)
			*slot(slots, cap, f->slots[i].line, f->slots[i].hash) = f->slots[i];
	}
	free(f->slots);
	f->slots = slots;
	f->cap = cap;
	return true;
}

int folded_add(struct folded *f, const struct bootstrap_event *ev)
{
	const struct bootstrap_event_info *info = ev->info;
	bool any = false, ok;
	struct entry *e;
	uint64_t h;

	f->len = 0;
	ok = append_name(f, ev->hdr->comm, strnlen(ev->hdr->comm, sizeof(ev->hdr->comm)));
	/* User stacks first: a kernel stack continues the user one, from the syscall in. */
	for (int kernel = 0; kernel < 2 && ok; kernel++) {
		for (uint32_t i = 0; i < info->n_fields && ok; i++) {
			const struct bootstrap_field_info *fi = &info->fields[i];

			if (fi->type != BOOTSTRAP_T_STACK || fi->kernel_stack != kernel)
				continue;
			any = true;
			ok = append_stack(f, ev, &ev->vars[fi->var_index], kernel);
		}
	}
	if (!ok)
		return -ENOMEM;
	if (!any)
		return 0;
	h = hash(f->buf, f->len);
	e = slot(f->slots, f->cap, f->buf, h);
	if (!e->line) {
		if (!(e->line = strdup(f->buf)))
			return -ENOMEM;
		e->hash = h;
		if (++f->n * 2 > f->cap && !grow(f))
			return -ENOMEM;
		e = slot(f->slots, f->cap, f->buf, h);
	}
	e->count++;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	return strcmp((*(const struct entry *const *)a)->line, (*(const struct entry *const *)b)->line);
}

int folded_write(const struct folded *f, FILE *out)
{
	const struct entry **sorted = malloc((f->n ? f->n : 1) * sizeof(*sorted));
	size_t n = 0;

	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < f->cap; i++) {
		if (f->slots[i].line)
			sorted[n++] = &f->slots[i];
	}
	qsort(sorted, n, sizeof(*sorted), by_line);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %llu\n", sorted[i]->line, (unsigned long long)sorted[i]->count);
	free(sorted);
	return ferror(out) ? -EIO : 0;
}

void folded_free(struct folded *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->cap; i++)
		free(f->slots[i].line);
	free(f->slots);
	free(f->buf);
	free(f);
}
