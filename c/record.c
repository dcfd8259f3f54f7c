/* record.c: every number in a ring record came from the kernel (its size, event index
 * and id, cpu, masks, arena span, each variable field's offset and length) and is checked
 * here, once per record, before the callback or the JSON writer reads anything. A bug or
 * a corrupted record then costs one dropped event, counted, never a read out of bounds.
 *
 * Why the bounds are enough: a field's bytes are at offset (pos & (region - 1)) of its
 * CPU's arena element, which is region + BOOTSTRAP_ARENA_SLACK long, and a length is at
 * most its field's max_len <= BOOTSTRAP_FIELD_MAX_BYTES + 1 <= the slack. */
#include "record.h"

/* Bits of the header masks that name a field of the event. */
static __u32 field_bits(const struct bootstrap_event_info *info)
{
	return info->n_fields < 32 ? (1u << info->n_fields) - 1 : ~0u;
}

static bool header_ok(const struct arena *a, const struct bootstrap_header *h, size_t size)
{
	const struct bootstrap_event_info *info;

	if (size < sizeof(*h) || h->event_index >= BOOTSTRAP_N_EVENTS)
		return false;
	info = &bootstrap_events[h->event_index];
	return size == sizeof(*h) + info->payload_size && h->event_id == info->id && h->cpu < a->ncpu &&
	       !((h->truncated_mask | h->lost_mask | h->reread_mask) & ~field_bits(info));
}

/* One variable field: lost (not read) when the header says so or the span is stale;
 * else it must fit its max_len and the event's span, and a stack must be whole,
 * 8-byte aligned frames (readers take them as uint64_t in place); a stack copied for
 * unwinding (copied) starts 8-byte aligned with its saved registers whole, unless empty. */
static bool var_ok(const struct arena *a, const struct bootstrap_header *h, const struct bootstrap_field_info *f,
		   uint32_t bit, bool readable, bool copied, struct bootstrap_field_value *v)
{
	const struct bootstrap_var *d = (const struct bootstrap_var *)((const char *)(h + 1) + f->offset);
	__u32 off = d->off, len = d->len;  /* read once: what is checked is what is used */
	__u64 pos = h->arena_start + off;

	v->truncated = (h->truncated_mask & bit) != 0;
	v->lost = !readable || (h->lost_mask & bit);
	v->data = NULL;
	v->len = 0;
	if (v->lost)
		return true;
	if (len > f->max_len || (__u64)off + len > h->arena_end - h->arena_start)
		return false;
	if (copied ? (pos & 7) || (len && len < sizeof(struct bootstrap_ustack_regs))
		   : f->type == BOOTSTRAP_T_STACK && ((pos | len) & 7))
		return false;
	v->data = bs_arena_at(a, h->cpu, pos);
	v->len = len;
	return true;
}

enum bs_record bs_record_check(const struct arena *a, const void *data, size_t size,
			       struct bootstrap_field_value *vars)
{
	const struct bootstrap_header *h = data;
	const struct bootstrap_event_info *info;
	enum bs_record verdict = BS_RECORD_OK;

	if (!header_ok(a, h, size))
		return BS_RECORD_MALFORMED;
	info = &bootstrap_events[h->event_index];
	/* An event without variable fields owns no arena bytes: nothing to check (a packet
	 * event's span is empty, and it may have interrupted another's write). */
	if (!info->n_vars)
		return BS_RECORD_OK;
	switch (bs_arena_span(a, h)) {
	case BS_SPAN_OK:
		break;
	case BS_SPAN_STALE:
		verdict = BS_RECORD_STALE;
		break;
	case BS_SPAN_BAD:
		return BS_RECORD_MALFORMED;
	}
	for (uint32_t i = 0; i < info->n_fields; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];

		if (f->var_index >= 0 &&
		    !var_ok(a, h, f, 1u << i, verdict == BS_RECORD_OK, bs_unwind_fields[h->event_index].field == (int)i,
			    &vars[f->var_index]))
			return BS_RECORD_MALFORMED;
	}
	return verdict;
}
