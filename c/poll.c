/* poll.c: delivery. Each ring buffer record, once checked (record.c), becomes a
 * bootstrap_event whose variable fields point into the mmapped arena (zero copy); after
 * the callback returns, the event's arena span is released to the kernel. */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bootstrap.skel.h"
#include "internal.h"
#include "record.h"
#include "symbolize.h"

/* After a stop: no handler emits any more, so draining the ring buffer ends even under
 * load (a handler already past its filter still commits; it is drained too). */
static void quiesce(struct bootstrap *b)
{
	if (b->quiesced)
		return;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		b->skel->bss->bs_enabled[i] = 0;
	b->quiesced = true;
}

/* The event's user stack copied for unwinding (unwind = "dwarf"), unwound in place of
 * its bytes: the frames, truncated when the unwinding stopped before the outermost one. */
static void unwind_field(struct bootstrap *b, const struct bootstrap_header *h, struct bootstrap_field_value *vars)
{
	const struct bs_unwind_field *u = &bs_unwind_fields[h->event_index];
	struct bootstrap_field_value *v;
	bool whole;
	size_t n;

	if (u->field < 0)
		return;
	v = &vars[bootstrap_events[h->event_index].fields[u->field].var_index];
	if (v->lost || !v->len)
		return;
	if (!b->sym) {
		v->data = NULL;
		v->len = 0;
		v->lost = true;
		return;
	}
	n = bs_symbolizer_unwind(b->sym, (pid_t)h->pid, h->upid, (pid_t)h->tid, v->data, v->len, b->unwound,
				 u->max_frames, &whole);
	v->data = (const char *)b->unwound;
	v->len = n * sizeof(uint64_t);
	v->truncated = !whole;
}

int bs_on_record(void *ctx, void *data, size_t size)
{
	struct bootstrap_field_value vars[BOOTSTRAP_MAX_FIELDS];
	const struct bootstrap_header *h = data;
	struct bootstrap *b = ctx;
	struct bootstrap_event ev;
	enum bs_record verdict;
	int rc;

	if (size >= sizeof(*h) && h->event_index == BOOTSTRAP_FILLER_INDEX) {
		/* Only an arena span to release (bpf/record.bpf.h, bs_discard). */
		if (h->cpu < b->arena.ncpu && bs_arena_span(&b->arena, h) == BS_SPAN_OK)
			bs_arena_consumed(&b->arena, h->cpu, h->arena_start, h->arena_end);
		else
			b->records_malformed++;
		return 0;
	}
	verdict = bs_record_check(&b->arena, data, size, vars);
	if (verdict == BS_RECORD_MALFORMED) {
		b->records_malformed++;
		return 0;
	}
	if (verdict == BS_RECORD_STALE)
		b->arena_lapped++;
	ev.hdr = h;
	ev.payload = h + 1;
	ev.info = &bootstrap_events[h->event_index];
	ev.vars = vars;
	ev.symbolizer = b->sym;
	if (b->sym)
		bs_symbolizer_next(b->sym);
	unwind_field(b, h, vars);
	rc = b->fn(b->fn_ctx, &ev);
	if (verdict == BS_RECORD_OK && ev.info->n_vars)
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
