/* aggregate.c: reading the aggregations the kernel keeps (bootstrap_aggregates_read),
 * as totals or as deltas since the previous delta read, and their NDJSON lines
 * (bootstrap_aggregate_json), written with the same json_writer as event lines.
 *
 * Each map is a per-CPU hash: a lookup returns every CPU's value, which are added up
 * word by word (count, sums, histogram buckets are all __u64; sums of signed fields are
 * two's complement, so the same addition is right for them). Keys are never deleted,
 * by the kernel or here, so a walk with get_next_key sees every key that existed when
 * it started. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate.h"
#include "bootstrap.skel.h"
#include "clock.h"
#include "event_json.h"
#include "internal.h"

#define DEFAULT_AGG_ENTRIES 10240

/* One table's rows as read: each entry is the key (padded to 8 bytes) then the value
 * words, summed over CPUs. */
struct entries {
	unsigned char *buf;
	size_t n, cap;
	size_t key_bytes, stride;
};

/* The totals at the previous delta read, sorted by key, per table. */
struct bs_agg_state {
	struct entries prev[BOOTSTRAP_N_AGGREGATIONS];
	uint64_t prev_ns;
};

struct snapshot {
	struct bootstrap_aggregates pub; /* first: what the caller holds */
	struct bootstrap_agg_table tables[BOOTSTRAP_N_AGGREGATIONS];
	struct bootstrap_agg_row *rows[BOOTSTRAP_N_AGGREGATIONS];
	struct entries data[BOOTSTRAP_N_AGGREGATIONS];
};

static struct bpf_map *table_map(const struct bootstrap *b, int t)
{
	return bpf_object__find_map_by_name(b->skel->obj, bs_agg_maps[t]);
}

int bs_agg_size_maps(struct bootstrap *b, size_t entries)
{
	if (!entries)
		entries = DEFAULT_AGG_ENTRIES;
	if (entries > UINT32_MAX)
		return -E2BIG;
	for (int t = 0; t < BOOTSTRAP_N_AGGREGATIONS; t++) {
		struct bpf_map *map = table_map(b, t);
		int err = map ? bpf_map__set_max_entries(map, entries) : -ENOENT;

		if (err)
			return err;
	}
	return 0;
}

void bs_agg_free(struct bootstrap *b)
{
	if (!b->agg)
		return;
	for (int t = 0; t < BOOTSTRAP_N_AGGREGATIONS; t++)
		free(b->agg->prev[t].buf);
	free(b->agg);
	b->agg = NULL;
}

static void entries_init(struct entries *e, const struct bootstrap_aggregation_info *info)
{
	memset(e, 0, sizeof(*e));
	e->key_bytes = (info->key_size + 7) / 8 * 8;
	e->stride = e->key_bytes + info->value_size;
}

static unsigned char *entries_add(struct entries *e)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		unsigned char *grown = realloc(e->buf, cap * e->stride);

		if (!grown)
			return NULL;
		e->buf = grown;
		e->cap = cap;
	}
	return e->buf + e->n++ * e->stride;
}

static uint64_t *entry_words(const struct entries *e, unsigned char *entry)
{
	return (uint64_t *)(entry + e->key_bytes);
}

/* Every key of one map, each value summed over CPUs. */
static int read_map(const struct bootstrap *b, int fd, const struct bootstrap_aggregation_info *info,
		    struct entries *out)
{
	size_t words = info->value_size / 8;
	uint64_t *per_cpu = calloc(b->ncpu, info->value_size);
	unsigned char key[2][256];
	int cur = 0, err = 0;
	void *prev = NULL;

	if (!per_cpu)
		return -ENOMEM;
	if (info->key_size > sizeof(key[0])) {
		free(per_cpu);
		return -E2BIG;
	}
	while (!(err = bpf_map_get_next_key(fd, prev, key[cur]) ? -errno : 0)) {
		unsigned char *entry;
		uint64_t *sum;

		prev = key[cur];
		cur ^= 1;
		if (bpf_map_lookup_elem(fd, prev, per_cpu))
			continue; /* only a deletion could do that: none is made */
		entry = entries_add(out);
		if (!entry) {
			free(per_cpu);
			return -ENOMEM;
		}
		memset(entry, 0, out->key_bytes);
		memcpy(entry, prev, info->key_size);
		sum = entry_words(out, entry);
		memset(sum, 0, info->value_size);
		for (unsigned int c = 0; c < b->ncpu; c++)
			for (size_t w = 0; w < words; w++)
				sum[w] += per_cpu[c * words + w];
	}
	free(per_cpu);
	return err == -ENOENT ? 0 : err; /* ENOENT: past the last key */
}

static int compare_keys(const void *a, const void *b, void *key_bytes)
{
	return memcmp(a, b, *(const size_t *)key_bytes);
}

/* The entry of sorted e whose key is key's, or NULL. */
static unsigned char *find(const struct entries *e, const unsigned char *key)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		unsigned char *at = e->buf + mid * e->stride;
		int c = memcmp(key, at, e->key_bytes);

		if (c == 0)
			return at;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* In place, cur becomes cur - prev for each key (keys that gained nothing dropped);
 * prev becomes the totals that cur held. */
static int delta(struct entries *cur, struct entries *prev)
{
	struct entries totals = *cur;
	size_t words = (cur->stride - cur->key_bytes) / 8, kept = 0;
	unsigned char *copy = malloc(cur->n ? cur->n * cur->stride : 1);

	if (!copy)
		return -ENOMEM;
	qsort_r(cur->buf, cur->n, cur->stride, compare_keys, &cur->key_bytes);
	memcpy(copy, cur->buf, cur->n * cur->stride);
	for (size_t i = 0; i < cur->n; i++) {
		unsigned char *entry = cur->buf + i * cur->stride;
		unsigned char *old = find(prev, entry);
		uint64_t *w = entry_words(cur, entry);

		if (old)
			for (size_t k = 0; k < words; k++)
				w[k] -= entry_words(prev, old)[k];
		if (w[0] == 0)
			continue;
		memmove(cur->buf + kept++ * cur->stride, entry, cur->stride);
	}
	cur->n = kept;
	free(prev->buf);
	*prev = totals;
	prev->buf = copy;
	prev->cap = totals.n;
	return 0;
}

static int build_rows(struct snapshot *s, int slot, int t)
{
	const struct bootstrap_aggregation_info *info = &bootstrap_aggregations[t];
	struct entries *e = &s->data[slot];
	struct bootstrap_agg_row *rows = calloc(e->n ? e->n : 1, sizeof(*rows));

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		unsigned char *entry = e->buf + i * e->stride;
		const uint64_t *w = entry_words(e, entry);

		rows[i].key = entry;
		rows[i].count = w[0];
		rows[i].sums = info->n_sums ? w + 1 : NULL;
		rows[i].hist = info->hist ? w + 1 + info->n_sums : NULL;
	}
	s->rows[slot] = rows;
	s->tables[slot] = (struct bootstrap_agg_table){ .info = info, .n_rows = e->n, .rows = rows };
	return 0;
}

int bootstrap_aggregates_read(struct bootstrap *b, enum bootstrap_agg_view view, struct bootstrap_aggregates **out)
{
	struct snapshot *s;
	size_t n = 0;
	int err = 0;

	*out = NULL;
	if (view != BOOTSTRAP_AGG_TOTALS && view != BOOTSTRAP_AGG_DELTA)
		return -EINVAL;
	if (!b->agg && !(b->agg = calloc(1, sizeof(*b->agg))))
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pub.timestamp_ns = bs_clock_ns(CLOCK_REALTIME);
	for (int t = 0; t < BOOTSTRAP_N_AGGREGATIONS && !err; t++) {
		const struct bootstrap_aggregation_info *info = &bootstrap_aggregations[t];
		struct bpf_map *map;

		if (!b->selected[info->event])
			continue;
		map = table_map(b, t);
		entries_init(&s->data[n], info);
		err = map ? read_map(b, bpf_map__fd(map), info, &s->data[n]) : -ENOENT;
		if (!err && view == BOOTSTRAP_AGG_DELTA)
			err = delta(&s->data[n], &b->agg->prev[t]);
		err = err ?: build_rows(s, n, t);
		n++;
	}
	s->pub.n_tables = n;
	s->pub.tables = s->tables;
	if (view == BOOTSTRAP_AGG_DELTA) {
		uint64_t now = bs_clock_ns(CLOCK_MONOTONIC);

		s->pub.interval_ns = now - (b->agg->prev_ns ? b->agg->prev_ns : b->opened_ns);
		b->agg->prev_ns = now;
	}
	if (err) {
		bootstrap_aggregates_free(&s->pub);
		return err;
	}
	*out = &s->pub;
	return 0;
}

void bootstrap_aggregates_free(struct bootstrap_aggregates *a)
{
	struct snapshot *s = (struct snapshot *)a;

	if (!s)
		return;
	for (int t = 0; t < BOOTSTRAP_N_AGGREGATIONS; t++) {
		free(s->rows[t]);
		free(s->data[t].buf);
	}
	free(s);
}

static void key_json(struct json_writer *w, const struct bootstrap_agg_key_info *k, const unsigned char *key)
{
	const unsigned char *at = key + k->offset;
	uint64_t u = 0;
	int64_t v;

	switch (k->type) {
	case BOOTSTRAP_T_BYTES:
		bs_jw_string(w, at, strnlen((const char *)at, k->size));
		return;
	case BOOTSTRAP_T_IP:
		bs_jw_ip(w, at);
		return;
	case BOOTSTRAP_T_S8: v = *(const int8_t *)at; break;
	case BOOTSTRAP_T_S16: { int16_t x; memcpy(&x, at, 2); v = x; break; }
	case BOOTSTRAP_T_S32: { int32_t x; memcpy(&x, at, 4); v = x; break; }
	case BOOTSTRAP_T_S64: memcpy(&v, at, 8); break;
	default:
		memcpy(&u, at, k->size); /* little-endian: the low bytes of a u64 */
		if (k->type == BOOTSTRAP_T_BOOL)
			bs_jw_bool(w, u);
		else
			bs_json_named(w, u, k->names, k->n_names);
		return;
	}
	bs_jw_s64(w, v);
}

/* A bucket's bounds: [2^(i-2), 2^(i-1)); 2^64 does not fit a uint64_t, so it is text. */
static void bucket_json(struct json_writer *w, unsigned int i, uint64_t count)
{
	if (i == 0) {
		JW_LIT(w, "{\"lt\":0");
	} else {
		JW_LIT(w, "{\"ge\":");
		bs_jw_u64(w, i == 1 ? 0 : 1ull << (i - 2));
		JW_LIT(w, ",\"lt\":");
		if (i == BOOTSTRAP_HIST_BUCKETS - 1)
			JW_LIT(w, "18446744073709551616");
		else
			bs_jw_u64(w, 1ull << (i - 1));
	}
	JW_LIT(w, ",\"count\":");
	bs_jw_u64(w, count);
	JW_LIT(w, "}");
}

size_t bootstrap_aggregate_json(const struct bootstrap_aggregates *a, const struct bootstrap_agg_table *t,
				size_t row, char *buf, size_t cap)
{
	const struct bootstrap_aggregation_info *info = t->info;
	const struct bootstrap_agg_row *r = &t->rows[row];
	struct json_writer w;
	bool first = true;

	bs_jw_init(&w, buf, cap);
	JW_LIT(&w, "{\"aggregate\":");
	bs_jw_string(&w, info->name, strlen(info->name));
	JW_LIT(&w, ",\"event_type\":");
	bs_jw_string(&w, bootstrap_events[info->event].type_name, strlen(bootstrap_events[info->event].type_name));
	JW_LIT(&w, ",\"timestamp_ns\":");
	bs_jw_u64(&w, a->timestamp_ns);
	JW_LIT(&w, ",\"key\":{");
	for (uint32_t k = 0; k < info->n_keys; k++) {
		if (k)
			JW_LIT(&w, ",");
		bs_jw_string(&w, info->keys[k].name, strlen(info->keys[k].name));
		JW_LIT(&w, ":");
		key_json(&w, &info->keys[k], r->key);
	}
	JW_LIT(&w, "},\"count\":");
	bs_jw_u64(&w, r->count);
	for (uint32_t i = 0; i < info->n_sums; i++) {
		i ? JW_LIT(&w, ",") : JW_LIT(&w, ",\"sum\":{");
		bs_jw_string(&w, info->sums[i], strlen(info->sums[i]));
		JW_LIT(&w, ":");
		if (info->sums_signed[i])
			bs_jw_s64(&w, (int64_t)r->sums[i]);
		else
			bs_jw_u64(&w, r->sums[i]);
	}
	if (info->n_sums)
		JW_LIT(&w, "}");
	if (info->hist) {
		JW_LIT(&w, ",\"hist\":{\"field\":");
		bs_jw_string(&w, info->hist, strlen(info->hist));
		JW_LIT(&w, ",\"buckets\":[");
		for (unsigned int i = 0; i < BOOTSTRAP_HIST_BUCKETS; i++) {
			if (!r->hist[i])
				continue;
			if (!first)
				JW_LIT(&w, ",");
			bucket_json(&w, i, r->hist[i]);
			first = false;
		}
		JW_LIT(&w, "]}");
	}
	JW_LIT(&w, "}\n");
	return bs_jw_finish(&w);
}
