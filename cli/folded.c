/* folded.c: --folded. Each sample's stacks become one line of folded stacks
 * (bootstrap_event_folded() writes it: "comm;outermost;...;innermost"); identical lines
 * are counted in a hash table and written at exit as "LINE count", sorted, so the counts
 * add up to the samples delivered. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"

struct entry {
	char *line;
	uint64_t count;
	uint64_t hash;
};

struct folded {
	struct entry *slots;  /* open addressing, a power of two, at most half full */
	size_t cap, n;
	char *buf;            /* the line of the current event */
	size_t buf_cap;
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

/* Room for the line of n bytes and its NUL. */
static bool reserve(struct folded *f, size_t n)
{
	size_t cap = f->buf_cap ? f->buf_cap : 4096;
	char *grown;

	if (n + 1 <= f->buf_cap)
		return true;
	while (n + 1 > cap)
		cap *= 2;
	if (!(grown = realloc(f->buf, cap)))
		return false;
	f->buf = grown;
	f->buf_cap = cap;
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
	struct entry *e;
	size_t len;
	uint64_t h;

	if (!reserve(f, 0))
		return -ENOMEM;
	len = bootstrap_event_folded(ev, f->buf, f->buf_cap);
	if (len >= f->buf_cap) {
		if (!reserve(f, len))
			return -ENOMEM;
		bootstrap_event_folded(ev, f->buf, f->buf_cap);
	}
	/* An event without a stack field is not counted. */
	if (!len)
		return 0;
	h = hash(f->buf, len);
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
