/* serialize_bench: JSON serializer throughput, no kernel involved.
 *
 *   serialize_bench [EVENT:FIELD:SIZE[,SIZE...]]...
 *
 * For every event of the generated reflection table it builds one synthetic event
 * (fixed fields set to plausible numbers, char[] fields a 20-byte path, string lists
 * four short argv strings) and formats it with bootstrap_event_json() in a loop. Each
 * argument adds rows for one char[] field filled with SIZE bytes of text instead, e.g.
 * syscalls/sys_enter_write:content:64,4096,32768. Prints a Markdown table: events/s and
 * MB/s of JSON produced, per core (single thread, measured in thread CPU time so that
 * other load on the machine does not count against it).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap.h"

#define OUT_CAP (1u << 20)
#define BATCH 1000
#define MIN_CPU_NS 200000000ull /* per measurement; the best of ROUNDS is reported */
#define ROUNDS 3

static const char default_path[] = "/usr/lib/libfoo.so.1"; /* 20 bytes */
static const char default_argv[] = "/bin/true\0wload-exec\0--alpha=1\0beta"; /* + final NUL */

struct synth {
	struct bootstrap_header hdr;
	void *payload;
	struct bootstrap_field_value *vars;
	struct bootstrap_event ev;
};

static unsigned long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		perror("serialize_bench");
		exit(1);
	}
	return p;
}

/* Plausible values by type: small fds and counts, a negative return, flags. */
static void set_fixed(void *payload, const struct bootstrap_field_info *f)
{
	char *at = (char *)payload + f->offset;
	__u8 u8 = 1;
	__u16 u16 = 1000;
	__u32 u32 = 0x80000;
	__u64 u64 = 4096;
	__s8 s8 = -1;
	__s16 s16 = -2;
	__s32 s32 = -100;
	__s64 s64 = -2;

	switch (f->type) {
	case BOOTSTRAP_T_U8: memcpy(at, &u8, sizeof(u8)); break;
	case BOOTSTRAP_T_BOOL: memcpy(at, &u8, sizeof(u8)); break;
	case BOOTSTRAP_T_U16: memcpy(at, &u16, sizeof(u16)); break;
	case BOOTSTRAP_T_U32: memcpy(at, &u32, sizeof(u32)); break;
	case BOOTSTRAP_T_U64: memcpy(at, &u64, sizeof(u64)); break;
	case BOOTSTRAP_T_S8: memcpy(at, &s8, sizeof(s8)); break;
	case BOOTSTRAP_T_S16: memcpy(at, &s16, sizeof(s16)); break;
	case BOOTSTRAP_T_S32: memcpy(at, &s32, sizeof(s32)); break;
	case BOOTSTRAP_T_S64: memcpy(at, &s64, sizeof(s64)); break;
	default: break;
	}
}

/* A variable field's value: its descriptor in the payload and its (data, len). */
static void set_var(struct synth *s, const struct bootstrap_field_info *f, const char *data,
		    __u32 len, __u32 *arena_off)
{
	struct bootstrap_var v = { .off = *arena_off, .len = len };

	memcpy((char *)s->payload + f->offset, &v, sizeof(v));
	s->vars[f->var_index] = (struct bootstrap_field_value){ .data = data, .len = len };
	*arena_off += len;
}

/* sized_field names a char[] field to fill with sized_data instead of the default path. */
static void synth_init(struct synth *s, int idx, const char *sized_field, const char *sized_data,
		       __u32 sized_len)
{
	const struct bootstrap_event_info *info = &bootstrap_events[idx];
	__u32 arena_off = info->payload_size;

	memset(s, 0, sizeof(*s));
	s->payload = xcalloc(1, info->payload_size);
	s->vars = xcalloc(info->n_vars, sizeof(*s->vars));
	for (__u32 i = 0; i < info->n_fields; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];

		if (f->var_index < 0)
			set_fixed(s->payload, f);
		else if (f->type == BOOTSTRAP_T_BYTES && sized_field && strcmp(f->name, sized_field) == 0)
			set_var(s, f, sized_data, sized_len, &arena_off);
		else if (f->type == BOOTSTRAP_T_BYTES)
			set_var(s, f, default_path, sizeof(default_path) - 1, &arena_off);
		else
			set_var(s, f, default_argv, sizeof(default_argv), &arena_off);
	}
	s->hdr = (struct bootstrap_header){
		.timestamp_ns = 1732230000123456789ull,
		.upid = (17323ull << 22) | 4242, .uppid = (17300ull << 22) | 4200,
		.cgroup_id = 6543, .arena_start = 1ull << 20, .arena_end = (1ull << 20) + arena_off,
		.event_id = info->id, .pid = 4242, .tid = 4243, .ppid = 4200, .uid = 1000,
		.cpu = 1, .event_index = (__u16)idx, .comm = "wload",
	};
	s->ev = (struct bootstrap_event){ .hdr = &s->hdr, .payload = s->payload, .info = info,
					  .vars = s->vars };
}

static void synth_free(struct synth *s)
{
	free(s->payload);
	free(s->vars);
}

/* Best of ROUNDS measurements of at least MIN_CPU_NS each: events/s and output bytes. */
static void measure(const struct bootstrap_event *ev, char *out, double *eps, size_t *line_len)
{
	*line_len = bootstrap_event_json(ev, out, OUT_CAP);
	if (*line_len >= OUT_CAP) {
		fprintf(stderr, "serialize_bench: %s: line of %zu bytes over the buffer\n",
			ev->info->type_name, *line_len);
		exit(1);
	}
	*eps = 0;
	for (int r = 0; r < ROUNDS; r++) {
		unsigned long long n = 0, t0 = cpu_ns(), dt;

		do {
			for (int i = 0; i < BATCH; i++)
				bootstrap_event_json(ev, out, OUT_CAP);
			n += BATCH;
			dt = cpu_ns() - t0;
		} while (dt < MIN_CPU_NS);
		if ((double)n * 1e9 / (double)dt > *eps)
			*eps = (double)n * 1e9 / (double)dt;
	}
}

static void row(const char *event, const char *shape, const struct bootstrap_event *ev, char *out)
{
	double eps;
	size_t len;

	measure(ev, out, &eps, &len);
	printf("| %s | %s | %zu | %.2f M | %.0f |\n", event, shape, len, eps / 1e6,
	       eps * (double)len / 1e6);
	fflush(stdout);
}

/* "filename: 20 B, argv: 4 strings" for the default values of an event's variable fields. */
static void describe(const struct bootstrap_event_info *info, char *buf, size_t cap)
{
	size_t used = 0;

	snprintf(buf, cap, "none");
	for (__u32 i = 0; i < info->n_fields && used < cap; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];

		if (f->var_index < 0)
			continue;
		used += (size_t)snprintf(buf + used, cap - used, "%s%s: %s", used ? ", " : "", f->name,
					 f->type == BOOTSTRAP_T_BYTES ? "20 B" : "4 strings");
	}
}

/* Text for sized rows: printable, so the row measures copying rather than escaping. */
static char *sized_text(size_t len)
{
	char *p = xcalloc(1, len);

	for (size_t i = 0; i < len; i++)
		p[i] = (char)('a' + i * 7 % 26);
	return p;
}

static int sized_rows(const char *spec, char *out)
{
	char *copy = strdup(spec), *event, *field, *sizes, *save = NULL;
	int idx;

	if (!copy)
		return -ENOMEM;
	event = strtok_r(copy, ":", &save);
	field = strtok_r(NULL, ":", &save);
	sizes = strtok_r(NULL, "", &save);
	idx = event ? bootstrap_event_index(event) : -1;
	if (idx < 0 || !field || !sizes) {
		fprintf(stderr, "serialize_bench: '%s': want EVENT:FIELD:SIZE[,SIZE...] with an "
				"event of this build (see ./example --list)\n", spec);
		free(copy);
		return -EINVAL;
	}
	for (char *sz = strtok_r(sizes, ",", &save); sz; sz = strtok_r(NULL, ",", &save)) {
		unsigned long len = strtoul(sz, NULL, 10);
		char shape[128], *text;
		struct synth s;

		if (len == 0 || len > BOOTSTRAP_FIELD_MAX_BYTES) {
			fprintf(stderr, "serialize_bench: size '%s' not in 1..%u\n", sz,
				BOOTSTRAP_FIELD_MAX_BYTES);
			free(copy);
			return -EINVAL;
		}
		text = sized_text(len);
		synth_init(&s, idx, field, text, (__u32)len);
		snprintf(shape, sizeof(shape), "%s: %lu B", field, len);
		row(event, shape, &s.ev, out);
		synth_free(&s);
		free(text);
	}
	free(copy);
	return 0;
}

int main(int argc, char **argv)
{
	char *out = xcalloc(1, OUT_CAP);

	printf("| event | variable fields | JSON bytes | events/s | MB/s |\n");
	printf("|---|---|---:|---:|---:|\n");
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		char shape[256];
		struct synth s;

		synth_init(&s, i, NULL, NULL, 0);
		describe(s.ev.info, shape, sizeof(shape));
		row(bootstrap_events[i].type_name, shape, &s.ev, out);
		synth_free(&s);
	}
	for (int i = 1; i < argc; i++)
		if (sized_rows(argv[i], out))
			return 2;
	free(out);
	return 0;
}
