/* test_records.c: corrupted ring records fed to the reader (bs_on_record) without a
 * kernel. Each record is either delivered with every variable field inside its CPU's
 * arena element and within its declared max, or dropped and counted
 * (records_malformed), releasing nothing; never read out of bounds. Records the kernel
 * could have written are all delivered, byte for byte. Run under AddressSanitizer too
 * (test-sanitize): the record and the arena are heap blocks of their exact size. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "internal.h"
#include "record.h"

#define REGION (64u << 10)
#define NCPU 2
#define ITERATIONS 100000

static char *mem;
static struct bootstrap_arena_ctl ctl[NCPU];
static __u64 consumed[NCPU];
static __u64 *done;  /* the reader's bitmap of spans read out of order */
static struct bootstrap b;

static void setup(void)
{
	mem = calloc(NCPU, bs_arena_stride(REGION));
	cr_assert_not_null(mem);
	memset(ctl, 0, sizeof(ctl));
	memset(consumed, 0, sizeof(consumed));
	memset(&b, 0, sizeof(b));
	done = calloc(NCPU * bs_arena_done_words(4 * (__u64)BOOTSTRAP_ARENA_SLACK), sizeof(*done));
	cr_assert_not_null(done);
	bs_arena_init(&b.arena, mem, ctl, consumed, done, NCPU, REGION);
}

static void teardown(void)
{
	free(done);
	free(mem);
}

TestSuite(records, .init = setup, .fini = teardown);

/* xorshift64*: the same sequence on every run. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

struct rec {
	struct bootstrap_header h;
	unsigned char p[BOOTSTRAP_MAX_PAYLOAD_SIZE];
};

static const struct bootstrap_event_info *info_of(const struct rec *r)
{
	return &bootstrap_events[r->h.event_index];
}

static struct bootstrap_var *var_of(struct rec *r, const struct bootstrap_field_info *f)
{
	return (struct bootstrap_var *)(r->p + f->offset);
}

/* Whether field i of event idx is a user stack copied for unwinding. */
static bool copied(int idx, uint32_t i)
{
	return bs_unwind_fields[idx].field == (int)i;
}

/* Writes a record of event idx on cpu as the kernel could have: the CPU's region
 * released up to some position, the event's variable fields one after the other from
 * there (stacks 8-byte aligned) with random lengths up to their max and random bytes,
 * some fields lost or truncated; the kernel's head at the event's end. Returns its size. */
static size_t make_record(struct rec *r, int idx, unsigned int cpu, uint64_t *rng)
{
	const struct bootstrap_event_info *info = &bootstrap_events[idx];
	__u64 released = (next(rng) >> 20) & ~7ull, pos = released;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < info->payload_size; i++)
		r->p[i] = (unsigned char)next(rng);
	r->h.event_index = idx;
	r->h.event_id = info->id;
	r->h.cpu = cpu;
	r->h.arena_start = pos;
	for (uint32_t i = 0; i < info->n_fields; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];
		struct bootstrap_var *d;
		__u64 room;
		__u32 len;

		if (f->var_index < 0) {
			r->h.lost_mask |= (next(rng) % 8 == 0 ? 1u : 0u) << i;
			continue;
		}
		if (f->type == BOOTSTRAP_T_STACK)
			pos = (pos + 7) & ~7ull;
		room = released + REGION - pos;
		len = next(rng) % (f->max_len + 1);
		len = len < room ? len : (__u32)room;
		if (f->type == BOOTSTRAP_T_STACK)
			len &= ~7u;
		if (copied(idx, i) && len < sizeof(struct bootstrap_ustack_regs))
			len = 0;  /* a copied user stack starts with its saved registers */
		d = var_of(r, f);
		d->off = pos - r->h.arena_start;
		d->len = len;
		for (__u32 k = 0; k < len; k++)  /* from its start on, into the slack */
			mem[cpu * bs_arena_stride(REGION) + (pos & (REGION - 1)) + k] = (char)next(rng);
		pos += len;
		if (next(rng) % 8 == 0) {
			r->h.lost_mask |= 1u << i;
			d->len = 0;
		}
		r->h.truncated_mask |= (next(rng) % 4 == 0 ? 1u : 0u) << i;
	}
	/* The kernel's spans are whole granules, read in order here. */
	r->h.arena_end = info->n_vars ? (pos + BOOTSTRAP_ARENA_ALIGN - 1) & ~(__u64)(BOOTSTRAP_ARENA_ALIGN - 1) : 0;
	if (!info->n_vars)
		r->h.arena_start = 0;
	ctl[cpu].released = released;
	ctl[cpu].head = r->h.arena_end;
	consumed[cpu] = released;
	return sizeof(r->h) + info->payload_size;
}

struct seen {
	int calls;
	struct bootstrap_field_value vars[BOOTSTRAP_MAX_FIELDS];
	size_t json_len;
};

/* Every variable field inside its CPU's arena element and its max, then the event's
 * JSON line in two passes (the size, then the text), as ./example writes it. */
static int check_event(void *ctx, const struct bootstrap_event *ev)
{
	const char *elem = mem + ev->hdr->cpu * bs_arena_stride(REGION);
	struct seen *s = ctx;
	char *line;

	cr_assert_lt(ev->hdr->cpu, NCPU);
	for (uint32_t i = 0; i < ev->info->n_fields; i++) {
		const struct bootstrap_field_info *f = &ev->info->fields[i];
		const struct bootstrap_field_value *v;

		if (f->var_index < 0)
			continue;
		v = &ev->vars[f->var_index];
		s->vars[f->var_index] = *v;
		cr_assert_leq(v->len, f->max_len);
		if (v->lost) {
			cr_assert_null(v->data);
			continue;
		}
		cr_assert(v->data >= elem && v->data + v->len <= elem + bs_arena_stride(REGION),
			  "%s.%s: %u bytes outside CPU %u's arena element", ev->info->type_name, f->name, v->len,
			  ev->hdr->cpu);
		if (f->type == BOOTSTRAP_T_STACK)
			cr_assert_eq(((uintptr_t)v->data | v->len) & 7, 0, "a stack is whole aligned frames");
	}
	s->json_len = bootstrap_event_json(ev, NULL, 0);
	line = malloc(s->json_len + 1);
	cr_assert_not_null(line);
	cr_assert_eq(bootstrap_event_json(ev, line, s->json_len + 1), s->json_len, "both passes agree");
	cr_assert_eq(line[s->json_len], '\0');
	free(line);
	s->calls++;
	return 0;
}

/* Hands the record to the reader as the ring buffer would: size bytes in a block of
 * exactly that size. Returns what the callback saw. */
static struct seen feed(const struct rec *r, size_t size)
{
	unsigned char *block = malloc(size ? size : 1);
	struct seen s = { 0 };

	cr_assert_not_null(block);
	memcpy(block, r, size < sizeof(*r) ? size : sizeof(*r));
	if (size > sizeof(*r))
		memset(block + sizeof(*r), 0, size - sizeof(*r));
	b.fn = check_event;
	b.fn_ctx = &s;
	cr_assert_eq(bs_on_record(&b, block, size), 0, "the batch goes on");
	free(block);
	return s;
}

static uint64_t delivered(void)
{
	uint64_t n = 0;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		n += b.delivered[i];
	return n;
}

/* The outcome of one record: delivered once, or dropped, counted, and nothing
 * released. Returns whether it was delivered. */
static bool outcome(const struct rec *r, size_t size)
{
	uint64_t malformed = b.records_malformed, n = delivered();
	__u64 released[NCPU];
	struct seen s;

	for (int c = 0; c < NCPU; c++)
		released[c] = ctl[c].released;
	s = feed(r, size);
	bs_arena_release_all(&b.arena);
	for (int c = 0; c < NCPU; c++)
		cr_assert_leq(ctl[c].released, ctl[c].head > released[c] ? ctl[c].head : released[c],
			      "released past what the kernel wrote");
	if (s.calls) {
		cr_assert_eq(s.calls, 1);
		cr_assert_eq(delivered(), n + 1);
		cr_assert_eq(b.records_malformed, malformed);
		return true;
	}
	cr_assert_eq(b.records_malformed, malformed + 1, "a record not delivered is counted");
	cr_assert_eq(delivered(), n);
	for (int c = 0; c < NCPU; c++)
		cr_assert_eq(ctl[c].released, released[c], "a dropped record releases nothing");
	return false;
}

/* The first event with a variable field of this type, and that field. */
static int event_with(enum bootstrap_type type, const struct bootstrap_field_info **field)
{
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		for (uint32_t k = 0; k < bootstrap_events[i].n_fields; k++)
			if (bootstrap_events[i].fields[k].type == type) {
				*field = &bootstrap_events[i].fields[k];
				return i;
			}
	cr_assert_fail("no event of this schema has a field of type %d", type);
	return -1;
}

/* The max_len of that field. */
static __u32 max_of(enum bootstrap_type type)
{
	const struct bootstrap_field_info *f;

	event_with(type, &f);
	return f->max_len;
}

/* A sound record of event idx, its field present with len bytes (the rest empty), the
 * region released up to its start. */
static size_t sound_of(struct rec *r, int idx, const struct bootstrap_field_info *field, __u32 len)
{
	const struct bootstrap_event_info *info = &bootstrap_events[idx];
	__u64 start = 5 * (__u64)REGION - 64;  /* runs on into the slack */

	memset(r, 0, sizeof(*r));
	r->h.event_index = idx;
	r->h.event_id = info->id;
	r->h.cpu = 1;
	r->h.arena_start = start;
	r->h.arena_end = start + len;
	var_of(r, field)->len = len;
	ctl[1].released = start;
	ctl[1].head = start + len;
	consumed[1] = start;
	return sizeof(r->h) + info->payload_size;
}

/* The same, of the event with a field of this type, that field. */
static size_t sound(struct rec *r, enum bootstrap_type type, __u32 len, const struct bootstrap_field_info **field)
{
	int idx = event_with(type, field);

	return sound_of(r, idx, *field, len);
}

/* The same, of the first event whose user stack is copied for unwinding in user space. */
static size_t sound_copy(struct rec *r, __u32 len, const struct bootstrap_field_info **field)
{
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		if (bs_unwind_fields[i].field >= 0) {
			*field = &bootstrap_events[i].fields[bs_unwind_fields[i].field];
			return sound_of(r, i, *field, len);
		}
	cr_assert_fail("no event of this schema copies a user stack");
	return 0;
}

Test(records, kernel_written_records_are_all_delivered_byte_for_byte)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct rec r;

	for (int it = 0; it < ITERATIONS / 10; it++) {
		size_t size = make_record(&r, next(&rng) % BOOTSTRAP_N_EVENTS, next(&rng) % NCPU, &rng);
		const struct bootstrap_event_info *info = info_of(&r);
		struct seen s = feed(&r, size);

		cr_assert_eq(s.calls, 1, "%s: a record the kernel could write was dropped", info->type_name);
		for (uint32_t i = 0; i < info->n_fields; i++) {
			const struct bootstrap_field_info *f = &info->fields[i];
			const struct bootstrap_var *d = var_of(&r, f);
			const struct bootstrap_field_value *v;

			if (f->var_index < 0)
				continue;
			v = &s.vars[f->var_index];
			if (copied(r.h.event_index, i)) {
				/* Unwound in place of its bytes: without a symbolizer, lost. */
				cr_assert_eq(v->lost, ((r.h.lost_mask >> i) & 1) || d->len);
				continue;
			}
			cr_assert_eq(v->lost, (r.h.lost_mask >> i) & 1);
			cr_assert_eq(v->truncated, (r.h.truncated_mask >> i) & 1);
			if (!v->lost) {
				cr_assert_eq(v->len, d->len);
				cr_assert_eq(v->data, bs_arena_at(&b.arena, r.h.cpu, r.h.arena_start + d->off));
			}
		}
		bs_arena_release_all(&b.arena);
		if (info->n_vars)
			cr_assert_eq(ctl[r.h.cpu].released, r.h.arena_end, "the whole event is released");
	}
	cr_assert_eq(b.records_malformed, 0);
}

/* One random corruption of a sound record of event info: a field of the header, a variable field's
 * place, the record's size, the release position, or any byte. */
static size_t corrupt(struct rec *r, const struct bootstrap_event_info *info, size_t size, uint64_t *rng)
{
	const struct bootstrap_field_info *f = info->n_fields ? &info->fields[next(rng) % info->n_fields] : NULL;
	uint64_t x = next(rng);
	__u64 small = x % 17 - 8;  /* -8..8, added modulo 2^64 */

	switch (next(rng) % 12) {
	case 0:
		size = x % 4 ? size + small : x % (sizeof(*r) + 64);
		return size <= sizeof(*r) + 64 ? size : 0;  /* 0 for one that wrapped below 0 */
	case 1: r->h.event_index = x % 2 ? x : r->h.event_index + small; break;
	case 2: r->h.event_id ^= x % 2 ? x : 1u << (x % 32); break;
	case 3: r->h.cpu = x % 2 ? x : r->h.cpu + small; break;
	case 4: r->h.truncated_mask |= 1u << (x % 32); break;
	case 5: r->h.lost_mask ^= 1u << (x % 32); break;
	case 6: r->h.arena_start = x % 2 ? x : r->h.arena_start + small * (REGION / 8); break;
	case 7: r->h.arena_end = x % 2 ? x : r->h.arena_end + small * (x % 3 ? 1 : REGION / 8); break;
	case 8:
		if (f && f->var_index >= 0)
			var_of(r, f)->off = x % 2 ? x : var_of(r, f)->off + small;
		break;
	case 9:
		if (f && f->var_index >= 0)
			var_of(r, f)->len = x % 3 == 0 ? x : x % 3 == 1 ? f->max_len + (x >> 8) % 9 : var_of(r, f)->len + small;
		break;
	case 10: consumed[r->h.cpu % NCPU] = ctl[r->h.cpu % NCPU].released += small * (x % 2 ? 1 : REGION / 8); break;
	case 11: ((unsigned char *)r)[x % (size < sizeof(*r) ? size + 1 : sizeof(*r))] ^= 1u << (x >> 32) % 8; break;
	}
	return size;
}

Test(records, corrupted_records_are_delivered_in_bounds_or_dropped_and_counted)
{
	uint64_t rng = 0x243f6a8885a308d3ull, kept = 0, dropped = 0, filler_malformed = 0;
	struct rec r;

	for (int it = 0; it < ITERATIONS; it++) {
		size_t size = make_record(&r, next(&rng) % BOOTSTRAP_N_EVENTS, next(&rng) % NCPU, &rng);
		const struct bootstrap_event_info *info = info_of(&r);
		unsigned int rounds = 1 + next(&rng) % 3;

		for (unsigned int k = 0; k < rounds; k++)
			size = corrupt(&r, info, size, &rng);
		if (r.h.event_index == BOOTSTRAP_FILLER_INDEX) {
			/* Now a filler (bpf/record.bpf.h): a span to release, never delivered;
			 * counted when its span is not one the kernel could write. */
			uint64_t before = b.records_malformed;

			cr_assert_eq(feed(&r, size).calls, 0);
			bs_arena_release_all(&b.arena);
			filler_malformed += b.records_malformed - before;
			continue;
		}
		if (outcome(&r, size))
			kept++;
		else
			dropped++;
	}
	/* The seed is fixed: both paths are taken, every run the same way. */
	cr_assert_gt(kept, 0);
	cr_assert_gt(dropped, 0);
	cr_assert_eq(b.records_malformed, dropped + filler_malformed);
}

Test(records, field_lengths_up_to_their_max_and_the_span_are_read)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, max_of(BOOTSTRAP_T_BYTES), &f);

	cr_assert(outcome(&r, size));
	size = sound(&r, BOOTSTRAP_T_STR_ARRAY, max_of(BOOTSTRAP_T_STR_ARRAY), &f);
	cr_assert(outcome(&r, size), "a char*[] block may end one past max: its last NUL");
	size = sound(&r, BOOTSTRAP_T_STACK, max_of(BOOTSTRAP_T_STACK), &f);
	cr_assert(outcome(&r, size));
}

Test(records, a_field_longer_than_its_max_is_dropped)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	/* Within the span and the region: only the field's max says no. */
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, max_of(BOOTSTRAP_T_BYTES) + 1, &f);

	cr_assert_not(outcome(&r, size));
	size = sound(&r, BOOTSTRAP_T_STR_ARRAY, max_of(BOOTSTRAP_T_STR_ARRAY) + 1, &f);
	cr_assert_not(outcome(&r, size));
	size = sound(&r, BOOTSTRAP_T_STACK, max_of(BOOTSTRAP_T_STACK) + 8, &f);
	cr_assert_not(outcome(&r, size));
}

Test(records, a_field_beyond_its_event_span_is_dropped)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 6, &f);

	var_of(&r, f)->len = 7;
	cr_assert_not(outcome(&r, size));
	var_of(&r, f)->len = 6;
	var_of(&r, f)->off = 1;
	cr_assert_not(outcome(&r, size));
	var_of(&r, f)->off = UINT32_MAX;  /* off + len overflows 32 bits */
	var_of(&r, f)->len = 7;
	cr_assert_not(outcome(&r, size));
	var_of(&r, f)->off = 0;
	var_of(&r, f)->len = 6;
	cr_assert(outcome(&r, size));
}

Test(records, a_stack_of_partial_or_misaligned_frames_is_dropped)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_STACK, 16, &f);

	var_of(&r, f)->len = 12;
	cr_assert_not(outcome(&r, size));
	var_of(&r, f)->len = 8;
	var_of(&r, f)->off = 4;
	cr_assert_not(outcome(&r, size));
	r.h.arena_start += 4;  /* the span's start is not 8-byte aligned either */
	var_of(&r, f)->off = 0;
	ctl[1].released = r.h.arena_start;
	cr_assert_not(outcome(&r, size));
	r.h.arena_start -= 4;
	ctl[1].released = r.h.arena_start;
	cr_assert(outcome(&r, size));
}

Test(records, a_copied_user_stack_holds_its_registers_whole)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound_copy(&r, sizeof(struct bootstrap_ustack_regs) - 8, &f);

	cr_assert_not(outcome(&r, size), "registers cut short");
	size = sound_copy(&r, f->max_len + 1, &f);
	cr_assert_not(outcome(&r, size), "longer than the registers and the copy");
	size = sound_copy(&r, sizeof(struct bootstrap_ustack_regs) + 3, &f);
	cr_assert(outcome(&r, size), "the stack copied may end anywhere");
	size = sound_copy(&r, f->max_len, &f);
	cr_assert(outcome(&r, size));
	size = sound_copy(&r, 0, &f);
	cr_assert(outcome(&r, size), "a kernel thread's: empty");
	size = sound_copy(&r, 32, &f);
	var_of(&r, f)->off = 4;
	cr_assert_not(outcome(&r, size), "the registers are 8-byte aligned");
}

Test(records, a_header_no_program_writes_is_dropped)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 6, &f);
	struct rec bad;

	cr_assert_not(outcome(&r, 0));
	cr_assert_not(outcome(&r, sizeof(r.h) - 1));
	cr_assert_not(outcome(&r, size - 1), "shorter than the event's payload");
	cr_assert_not(outcome(&r, size + 8), "longer than the event's payload");
	bad = r;
	bad.h.event_index = BOOTSTRAP_N_EVENTS;
	cr_assert_not(outcome(&bad, size));
	bad = r;
	bad.h.event_id++;
	cr_assert_not(outcome(&bad, size));
	bad = r;
	bad.h.cpu = NCPU;
	cr_assert_not(outcome(&bad, size));
	bad = r;
	bad.h.lost_mask = 1u << info_of(&r)->n_fields;
	cr_assert_not(outcome(&bad, size), "a mask bit of no field");
	bad = r;
	bad.h.truncated_mask = 1u << 31;
	cr_assert_not(outcome(&bad, size));
	cr_assert(outcome(&r, size));
}

Test(records, a_span_the_kernel_never_writes_is_dropped)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 6, &f);
	struct rec bad;

	bad = r;
	bad.h.arena_end = bad.h.arena_start - 1;
	cr_assert_not(outcome(&bad, size), "inverted");
	bad = r;
	bad.h.arena_end = bad.h.arena_start + REGION + 1;
	cr_assert_not(outcome(&bad, size), "longer than the region");
	consumed[1] = ctl[1].released = r.h.arena_start - REGION + 5;
	cr_assert_not(outcome(&r, size), "ends past released + region, where the kernel never writes");
}

Test(records, a_stale_span_is_delivered_with_its_fields_lost)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 6, &f);
	struct seen s;

	ctl[1].released = r.h.arena_start + 1;
	consumed[1] = ctl[1].released;
	var_of(&r, f)->len = UINT32_MAX;  /* not read, so not checked */
	s = feed(&r, size);
	cr_assert_eq(s.calls, 1);
	cr_assert(s.vars[f->var_index].lost);
	cr_assert_eq(b.arena_lapped, 1);
	cr_assert_eq(b.records_malformed, 0);
}

Test(records, a_lost_field_is_not_read_whatever_its_place)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 6, &f);
	struct seen s;

	r.h.lost_mask = 1u << (f - info_of(&r)->fields);
	var_of(&r, f)->off = UINT32_MAX;
	var_of(&r, f)->len = UINT32_MAX;
	s = feed(&r, size);
	cr_assert_eq(s.calls, 1);
	cr_assert(s.vars[f->var_index].lost);
	cr_assert_null(s.vars[f->var_index].data);
}

/* With a region larger than the slack, a length that fits the event's span but not its
 * max would run past the CPU's element (here the last one, the end of the mapping). */
Test(records, a_length_past_the_slack_is_dropped_before_it_is_read)
{
	const __u64 region = 4 * (__u64)BOOTSTRAP_ARENA_SLACK;
	char *big = malloc(NCPU * bs_arena_stride(region));
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 0, &f);
	__u32 len = BOOTSTRAP_ARENA_SLACK + 4096;

	cr_assert_not_null(big);
	bs_arena_init(&b.arena, big, ctl, consumed, done, NCPU, region);
	r.h.arena_start = 3 * region - 64;  /* 64 bytes before the region's end */
	r.h.arena_end = r.h.arena_start + len;
	var_of(&r, f)->len = len;
	consumed[1] = ctl[1].released = r.h.arena_start;
	ctl[1].head = r.h.arena_end;
	cr_assert_not(outcome(&r, size));
	free(big);
}

Test(records, a_corrupt_end_within_the_region_releases_no_further_than_the_kernel_head)
{
	const struct bootstrap_field_info *f;
	struct rec r;
	size_t size = sound(&r, BOOTSTRAP_T_BYTES, 6, &f);

	r.h.arena_end = r.h.arena_start + REGION;  /* plausible, but the kernel wrote 6 bytes */
	cr_assert(outcome(&r, size));
	cr_assert_eq(ctl[1].released, r.h.arena_start + 6);
}
