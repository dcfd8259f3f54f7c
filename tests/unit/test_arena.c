/* test_arena.c: the user-space arena reader without a kernel: fields resolved in place
 * across the region end, stale and lapped positions refused, lost fields, release order
 * (corrupted records: test_records.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "internal.h"

#define REGION (64u << 10)
#define NCPU 2

static char *mem;
static struct bootstrap_arena_ctl ctl[NCPU];
static __u64 consumed[NCPU];
static __u64 *done;
static struct arena a;

static void setup(void)
{
	mem = calloc(NCPU, bs_arena_stride(REGION));
	memset(ctl, 0, sizeof(ctl));
	memset(consumed, 0, sizeof(consumed));
	done = calloc(NCPU * bs_arena_done_words(REGION), sizeof(*done));
	bs_arena_init(&a, mem, ctl, consumed, done, NCPU, REGION);
}

static void teardown(void)
{
	free(mem);
	free(done);
}

TestSuite(arena, .init = setup, .fini = teardown);

static struct bootstrap_header span(unsigned cpu, __u64 start, __u64 end)
{
	return (struct bootstrap_header){ .cpu = cpu, .arena_start = start, .arena_end = end };
}

Test(arena, positions_map_into_the_cpu_region)
{
	cr_assert_eq(bs_arena_at(&a, 0, 10), mem + 10);
	cr_assert_eq(bs_arena_at(&a, 1, 10), mem + bs_arena_stride(REGION) + 10);
	/* Monotonic positions wrap onto the same region every lap. */
	cr_assert_eq(bs_arena_at(&a, 1, 3 * (__u64)REGION + 10), mem + bs_arena_stride(REGION) + 10);
}

Test(arena, field_across_the_region_end_stays_contiguous)
{
	__u64 start = 5 * (__u64)REGION - 100;  /* 100 bytes before the end, lap 5 */
	const char *p = bs_arena_at(&a, 0, start);
	struct bootstrap_header h = span(0, start, start + 1000);

	ctl[0].released = start;
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_OK);
	/* The 1000 bytes run on into the slack after the region, not back to its start. */
	cr_assert_eq(p, mem + REGION - 100);
	cr_assert_leq(p + 1000, mem + bs_arena_stride(REGION));
}

Test(arena, span_past_released_plus_region_is_bad)
{
	struct bootstrap_header h = span(0, 100, 100 + REGION + 1);

	ctl[0].released = 100;
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_BAD, "a span longer than the region cannot be intact");
	/* Ends one byte past released + region: the kernel never writes there. */
	h = span(0, 1000, 1000 + REGION);
	ctl[0].released = 999;
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_BAD);
	ctl[0].released = 1000;
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_OK, "exactly one region of unreleased bytes is allowed");
}

Test(arena, stale_span_before_released_is_refused)
{
	struct bootstrap_header h = span(1, 100, 200);

	ctl[1].released = 150;
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_STALE);
	ctl[1].released = 100;
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_OK);
}

Test(arena, inverted_span_is_bad)
{
	struct bootstrap_header h = span(0, 10, 5);

	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_BAD);
}

Test(arena, release_is_batched_moves_forward_only_and_per_cpu)
{
	ctl[0].head = ctl[1].head = REGION;  /* the kernel wrote that far */
	bs_arena_consumed(&a, 0, 0, 500);
	cr_assert_eq(ctl[0].released, 0, "a small amount waits for the batch end");
	bs_arena_consumed(&a, 0, 0, 300);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 500, "release must never move backwards");
	cr_assert_eq(ctl[1].released, 0);
	bs_arena_consumed(&a, 1, 0, REGION / 16);
	cr_assert_eq(ctl[1].released, REGION / 16, "a sixteenth of the region is released at once");
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 500);
}

Test(arena, spans_read_out_of_order_release_only_once_the_gap_is_read)
{
	/* Spans [0,64) [64,128) [128,512) [512,520), read as 64..128, 512..520, 0..64: the
	 * one at 128 is still being written. */
	ctl[0].head = 2 * REGION;  /* the kernel reserved that far */
	bs_arena_consumed(&a, 0, 64, 128);
	bs_arena_consumed(&a, 0, 512, 520);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 0, "nothing before the first unread span");
	bs_arena_consumed(&a, 0, 0, 64);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 128, "on across the span read ahead, up to the gap");
	bs_arena_consumed(&a, 0, 128, 512);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 520);
	/* The bitmap is clear again: a lap later the same positions are new spans. */
	bs_arena_consumed(&a, 0, 520 + REGION, 600 + REGION);
	bs_arena_consumed(&a, 0, 520, 520 + REGION);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 600 + REGION);
	cr_assert_eq(ctl[1].released, 0, "per CPU");
}

Test(arena, empty_span_is_neither_checked_nor_released)
{
	struct bootstrap_header h = span(0, 100, 100);

	ctl[0].released = 200;  /* an event that got no arena bytes, read after later ones */
	cr_assert_eq(bs_arena_span(&a, &h), BS_SPAN_OK);
	bs_arena_consumed(&a, 0, 100, 100);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, 200);
}

/* Delivery through the ring buffer callback, with a fake instance over this arena. */
struct seen {
	int calls;
	struct bootstrap_field_value content;
	__u64 released_during_callback;
};

static int remember(void *ctx, const struct bootstrap_event *ev)
{
	struct seen *s = ctx;

	s->calls++;
	s->content = ev->vars[0];
	s->released_during_callback = ctl[ev->hdr->cpu].released;
	return 0;
}

struct write_record {
	struct bootstrap_header h;
	struct bootstrap_payload_syscalls_sys_enter_write p;
};

/* The mask bit of a field of sys_enter_write (bit i is field i, schema order). */
static __u32 write_field_bit(const char *name)
{
	const struct bootstrap_event_info *info = &bootstrap_events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE];

	for (__u32 i = 0; i < info->n_fields; i++)
		if (strcmp(info->fields[i].name, name) == 0)
			return 1u << i;
	cr_assert_fail("sys_enter_write has no field %s", name);
	return 0;
}

static struct write_record write_record(__u64 start, __u32 len, __u32 lost_mask)
{
	struct write_record r = { 0 };

	r.h = span(1, start, start + len);
	r.h.event_index = BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE;
	r.h.event_id = BOOTSTRAP_ID_SYSCALLS_SYS_ENTER_WRITE;
	r.h.lost_mask = lost_mask;
	r.p.fd = 1;
	r.p.count = len;
	r.p.content = (struct bootstrap_var){ .off = 0, .len = len };
	return r;
}

/* Hands one record to the ring buffer callback of a fake instance over this arena. */
static struct seen deliver(struct bootstrap *b, struct write_record *r)
{
	struct seen s = { 0 };

	b->arena = a;
	b->fn = remember;
	b->fn_ctx = &s;
	cr_assert_eq(bs_on_record(b, r, sizeof(*r)), 0, "the batch goes on");
	cr_assert_eq(s.calls, 1);
	return s;
}

Test(arena, delivery_reads_in_place_then_releases)
{
	struct write_record r = write_record(REGION - 3, 6, 0);
	struct bootstrap b = { 0 };
	struct seen s;

	memcpy(mem + bs_arena_stride(REGION) + REGION - 3, "abcdef", 6);
	ctl[1].released = consumed[1] = REGION - 3;  /* everything before it was read */
	ctl[1].head = REGION + 3;
	s = deliver(&b, &r);
	cr_assert_eq(s.content.len, 6);
	cr_assert_arr_eq(s.content.data, "abcdef", 6);
	cr_assert_eq(s.released_during_callback, REGION - 3, "released only after the callback");
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[1].released, REGION + 3);
	cr_assert_eq(b.delivered[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE], 1);
}

Test(arena, lost_field_is_reported_not_read)
{
	struct write_record r = write_record(0, 0, write_field_bit("content"));
	struct bootstrap b = { 0 };
	struct seen s;

	r.p.count = 4096;
	s = deliver(&b, &r);
	cr_assert(s.content.lost);
	cr_assert_null(s.content.data);
	cr_assert_eq(b.arena_lapped, 0);
}

Test(arena, lapped_event_delivers_fields_as_lost_and_counts)
{
	struct write_record r = write_record(10, 6, 0);
	struct bootstrap b = { 0 };
	struct seen s;

	ctl[1].released = 10 + REGION;  /* the consumer is past it: those bytes were reused */
	s = deliver(&b, &r);
	cr_assert(s.content.lost);
	cr_assert_null(s.content.data);
	cr_assert_eq(b.arena_lapped, 1);
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[1].released, 10 + REGION, "a stale span releases nothing");
}

Test(arena, release_stops_at_the_kernel_head)
{
	ctl[0].head = 4096;
	bs_arena_consumed(&a, 0, 0, REGION);  /* a record that claimed more than was written */
	cr_assert_eq(ctl[0].released, 4096, "released past the head, the kernel would write no more");
	ctl[0].head = 2 * REGION;
	bs_arena_release_all(&a);
	cr_assert_eq(ctl[0].released, REGION);
}

Test(arena, filler_record_releases_its_span_and_delivers_nothing)
{
	struct bootstrap_header filler = span(1, 0, 64);
	struct write_record r = write_record(64, 8, 0);
	struct bootstrap b = { 0 };

	filler.event_index = BOOTSTRAP_FILLER_INDEX;
	ctl[1].head = REGION;  /* the kernel wrote that far */
	b.arena = a;
	b.fn = remember;
	cr_assert_eq(bs_on_record(&b, &filler, sizeof(filler)), 0);
	cr_assert_eq(b.arena.consumed[1], 64, "the discarded event's span counts as read");
	cr_assert_eq(deliver(&b, &r).calls, 1, "and the next span goes on from it");
	bs_arena_release_all(&b.arena);
	cr_assert_eq(ctl[1].released, 72);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		cr_assert_eq(b.delivered[i], i == BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE);
}
