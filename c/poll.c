/* poll.c: delivery. Each ring buffer record becomes a bootstrap_event whose variable
 * fields point into the mmapped arena (zero copy); after the callback returns, the
 * event's arena span is released to the kernel. */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bootstrap.skel.h"
#include "internal.h"
#include "symbolize.h"

/* Resolves the event's variable fields; all are lost when its arena span is not one the
 * kernel could have written (a stale or lapped position: never hand out such bytes). */
static void resolve_vars(struct bootstrap *b, const struct bootstrap_header *h, const char *payload,
			 const struct bootstrap_event_info *info, bool span_ok,
			 struct bootstrap_field_value *vars)
{
	__u64 span = h->arena_end - h->arena_start;

	for (uint32_t i = 0; i < info->n_fields; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];
		const struct bootstrap_var *d;
		struct bootstrap_field_value *v;

		if (f->var_index < 0)
			continue;
		d = (const struct bootstrap_var *)(payload + f->offset);
		v = &vars[f->var_index];
		v->truncated = (h->truncated_mask >> i) & 1;
		v->lost = !span_ok || ((h->lost_mask >> i) & 1) || (__u64)d->off + d->len > span;
		v->data = v->lost ? NULL : bs_arena_at(&b->arena, h->cpu, h->arena_start + d->off);
		v->len = v->lost ? 0 : d->len;
	}
}

/* After a stop: no handler emits any more, so draining the ring buffer ends even under
 * load (a handler already past its filter still commits; it is drained too). */
static void quiesce(struct bootstrap *b)
{
	if (b->quiesced)
		return;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		b->skel->bss->enabled[i] = 0;
	b->quiesced = true;
}

int bs_on_record(void *ctx, void *data, size_t size)
{
	struct bootstrap_field_value vars[BOOTSTRAP_MAX_FIELDS];
	const struct bootstrap_header *h = data;
	struct bootstrap *b = ctx;
	struct bootstrap_event ev;
	bool span_ok;
	int rc;

	if (size >= sizeof(*h) && h->event_index == BOOTSTRAP_FILLER_INDEX) {
		/* Only an arena span to release (bpf/emit.bpf.h, bs_discard). */
		if (bs_arena_span_ok(&b->arena, h))
			bs_arena_consumed(&b->arena, h->cpu, h->arena_start, h->arena_end);
		return 0;
	}
	if (size < sizeof(*h) || h->event_index >= BOOTSTRAP_N_EVENTS ||
	    size < sizeof(*h) + bootstrap_events[h->event_index].payload_size)
		return 0; /* cannot come from our programs */
	ev.hdr = h;
	ev.payload = h + 1;
	ev.info = &bootstrap_events[h->event_index];
	ev.vars = vars;
	ev.symbolizer = b->sym;
	/* An event without variable fields owns no arena bytes: nothing to check or release
	 * (a packet event's span is empty, and it may have interrupted another's write). */
	span_ok = !ev.info->n_vars || bs_arena_span_ok(&b->arena, h);
	if (!span_ok)
		b->arena_lapped++;
	resolve_vars(b, h, ev.payload, ev.info, span_ok, vars);
	if (b->sym)
		bs_symbolizer_next(b->sym);
	rc = b->fn(b->fn_ctx, &ev);
	if (span_ok && ev.info->n_vars)
		bs_arena_consumed(&b->arena, h->cpu, h->arena_start, h->arena_end);
	b->delivered[h->event_index]++;
	if (rc)
		b->cb_stop = true;
	if (b->stopped)
		quiesce(b);
	return b->cb_stop;
}

int bootstrap_poll(struct bootstrap *b, int timeout_ms, bootstrap_event_fn fn, void *ctx)
{
	struct epoll_event evs[3];
	uint64_t ticks;
	long n;

	if (!fn)
		return -EINVAL;
	if (!b->stopped && epoll_wait(b->epfd, evs, 3, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	/* Clear the timer's readiness; EAGAIN when it has not fired. */
	if (read(b->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	if (b->stopped)
		quiesce(b);
	b->fn = fn;
	b->fn_ctx = ctx;
	b->cb_stop = false;
	n = bs_ringbuf_consume(&b->ring, bs_on_record, b);
	bs_arena_release_all(&b->arena);
	return b->stopped && !b->cb_stop ? -ECANCELED : (int)n;
}

int bootstrap_epoll_fd(const struct bootstrap *b)
{
	return b->epfd;
}

void bootstrap_stop(struct bootstrap *b)
{
	uint64_t one = 1;

	b->stopped = 1;
	/* Wakes a poll blocked in epoll_wait; write() is async-signal-safe. */
	if (write(b->stopfd, &one, sizeof(one)) < 0) {
		/* The eventfd counter is saturated: it is readable already. */
	}
}
