/* record.bpf.h: an event's record, from its begin to its commit; every generated
 * handler goes through it (the field readers between the two are in fields.bpf.h).
 *
 *   bs_begin   filters (filter.bpf.h), reserves header + fixed payload in the ring buffer
 *              and, for an event with variable fields, its span of this CPU's arena
 *              region; fills the header
 *   bs_commit  gives back the unused end of the span, records it in the header, submits,
 *              wakes the consumer rarely
 *   bs_discard drops an event begun (a syscall entry held for its exit)
 *   bs_begin_quiet / bs_end_quiet  the same filters for an aggregate-only event, which
 *              sends nothing: its header (only the masks are used) and payload are on
 *              the handler's stack, and only the fields its aggregations read are filled
 *
 * Handlers interleave on one CPU. Tracepoint, kprobe and perf_event programs run through
 * trace_call_bpf()/bpf_overflow_handler(), which skip any such program while another
 * runs on the same CPU (bpf_prog_active), but uprobe programs run preemptible with only
 * migration disabled, and on PREEMPT_RT so do the others: a handler may stop anywhere
 * for as long as the scheduler likes, and other tasks' handlers run on its CPU
 * meanwhile. XDP runs in softirq and interrupts anything (it never touches the arena:
 * packet.bpf.h). Nothing here may therefore be owned by an event for its duration.
 *
 * Invariant: every arena byte an event writes lies in its own reservation
 * [arena_start, limit), taken by one compare-and-swap on bs_arena_ctl.head from a head
 * read before it, and ending at or below released + region as read before that CAS.
 * - Disjoint: reservations are cut from head by successful CASes, each from the value
 *   the previous one left, so no two overlap; a CAS that fails changed nothing (another
 *   handler moved head in between): read again and retry, a bounded number of times,
 *   then drop the event and count it (arena_busy: it lost the race that many times in
 *   a row). A preempted handler holds only its reservation: others reserve after it.
 * - Never over unread bytes: released only grows, so released + region, read before
 *   the CAS, bounds what user space has not released at any later time.
 * - Given back at the end: bs_commit() moves head back from limit to the event's
 *   aligned end (a CAS, so only when nobody reserved after it); otherwise the event
 *   keeps its whole reservation. Head returns to a value another event saw only through
 *   reservations that wrote nothing, so a span that holds bytes is never reused early.
 * - Always reported: user space releases a CPU's region only across spans it has been
 *   handed, in any order (c/arena.c), so every reservation reaches it in a ring record:
 *   its event's, or, when a discarded event (a syscall entry held for its exit) cannot
 *   give its reservation back, a filler record that carries only the span.
 * - Spans start and end at multiples of BOOTSTRAP_ARENA_ALIGN (the granule of user
 *   space's out-of-order bookkeeping), and a field is written contiguously from its
 *   first byte, through the slack past the region's end if need be.
 * Per-CPU counters and aggregations are shared by every handler of their event on the
 * CPU, so they are added to atomically (bs_count). Ring buffer reservation is safe in
 * any context (the kernel serializes producers with an irq-safe lock); the filters are
 * read-only. A preempted event's ring record holds back the consumer (the ring is read
 * in order) until it resumes; meanwhile every other event is still recorded.
 */
#ifndef BOOTSTRAP_RECORD_BPF_H
#define BOOTSTRAP_RECORD_BPF_H

#include "maps.bpf.h"
#include "filter.bpf.h"
#include "aggregate.bpf.h"

struct bs_emit {
	struct bootstrap_header *hdr;
	struct bootstrap_kcounters *cnt;
	struct bootstrap_arena_ctl *ctl;
	char *region;  /* this CPU's arena element */
	__u64 head;    /* next free position of the event's reservation */
	__u64 limit;   /* the reservation's end */
	/* Counted at commit, so that a syscall entry held for its exit counts nothing. */
	__u32 faults;  /* reads that faulted */
	__u32 truncs;  /* fields cut at their max */
	__u32 losts;   /* fields that did not fit in the arena */
	__u64 lost_bytes;
	bool no_user;  /* user memory is not the one the arguments point into: read none */
};

/* Stable under pid reuse and exact in a JSON double (< 2^53): start time in 10 ms units
 * (wraps after 248 days of uptime) above a 22-bit pid (the kernel's pid_max limit). */
static __always_inline __u64 bs_upid(__u64 start_time_ns, __u32 tgid)
{
	return ((start_time_ns / 10000000) & 0x7fffffff) << 22 | (tgid & 0x3fffff);
}

static __always_inline void bs_fill_header(struct bootstrap_header *h, __u64 pid_tgid, __u32 cpu)
{
	/* A BTF task pointer: plain loads the verifier turns into fault-safe ones, much
	 * cheaper than one bpf_probe_read_kernel() call per step. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *parent = task->real_parent;

	h->timestamp_ns = bpf_ktime_get_boot_ns() + bs_boot_to_wall_ns;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = parent->tgid;
	h->upid = bs_upid(task->group_leader->start_time, h->pid);
	h->uppid = bs_upid(parent->group_leader->start_time, h->ppid);
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->cpu = cpu;
	h->truncated_mask = 0;
	h->lost_mask = 0;
	h->reread_mask = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* A ring record for a header and size payload bytes of event index, and the event's
 * counters; NULL when the ring buffer is full (counted). */
static __always_inline struct bootstrap_header *bs_reserve(__u32 index, __u32 size, struct bootstrap_kcounters **cnt)
{
	struct bootstrap_header *h;

	*cnt = bpf_map_lookup_elem(&bs_counters, &index);
	if (!*cnt)
		return NULL;
	h = bpf_ringbuf_reserve(&bs_events_rb, sizeof(*h) + size, 0);
	if (!h)
		bs_count(&(*cnt)->ringbuf_full, 1);
	return h;
}

/* Times bs_arena_reserve() tries its CAS: each failure means another handler on this
 * CPU reserved between our read of head and our CAS (it interrupted or preempted us in
 * that window of a few instructions). */
#define BS_RESERVE_TRIES 4

/* Reserves up to need bytes (a multiple of BOOTSTRAP_ARENA_ALIGN) of this CPU's arena
 * for the event: as much as is free, possibly nothing (its fields are then lost and
 * counted). False when every try lost its race (see the top of this file). head starts
 * at 0 and moves only by whole granules here and in bs_arena_settle(), so every span is
 * aligned. */
static __always_inline bool bs_arena_reserve(struct bs_emit *e, __u32 need)
{
	struct bootstrap_arena_ctl *ctl = e->ctl;

	for (int i = 0; i < BS_RESERVE_TRIES; i++) {
		__u64 head = *(volatile __u64 *)&ctl->head;
		__u64 released = *(volatile __u64 *)&ctl->released;
		__u64 end = released + bs_arena_mask + 1;
		__u64 want = need;

		/* released past head would be a confused consumer: then reserve nothing. */
		if (released > head)
			end = head;
		/* Only whole granules, so that head stays aligned whatever released is. */
		if (head + want > end)
			want = (end - head) & ~(__u64)(BOOTSTRAP_ARENA_ALIGN - 1);
		e->head = e->limit = head;
		if (!want || __sync_val_compare_and_swap(&ctl->head, head, head + want) == head) {
			e->limit = head + want;
			return true;
		}
	}
	return false;
}

/* Returns the payload (right after the header in the ring record), or NULL when the event
 * is filtered out or dropped (ring buffer full, or no arena reservation: counted). size
 * must be a constant; arena_need is the most its variable fields write (0: none, and the
 * arena is not touched). */
static __always_inline void *bs_begin(struct bs_emit *e, __u32 index, __u32 id, __u32 size, __u32 arena_need)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bootstrap_kcounters *cnt;
	struct bootstrap_header *h;
	__u32 cpu;

	if (!bs_wanted(index, pid_tgid >> 32))
		return NULL;
	cpu = bpf_get_smp_processor_id();
	e->region = NULL;
	e->ctl = NULL;
	e->head = e->limit = 0;
	if (arena_need) {
		e->region = bpf_map_lookup_elem(&bs_arena, &cpu);
		e->ctl = bpf_map_lookup_elem(&bs_arena_ctl, &cpu);
		if (!e->region || !e->ctl)
			return NULL;
	}
	h = bs_reserve(index, size, &cnt);
	if (!h)
		return NULL;
	/* Right after the ring record: the less happens in between, the less often the two
	 * orders differ (user space copes when they do). */
	if (arena_need && !bs_arena_reserve(e, arena_need)) {
		bpf_ringbuf_discard(h, BPF_RB_NO_WAKEUP);
		bs_count(&cnt->arena_busy, 1);
		return NULL;
	}
	e->hdr = h;
	e->cnt = cnt;
	e->faults = 0;
	e->truncs = 0;
	e->losts = 0;
	e->lost_bytes = 0;
	e->no_user = false;
	h->event_id = id;
	h->event_index = index;
	h->arena_start = e->head;
	bs_fill_header(h, pid_tgid, cpu);
	return h + 1;
}

/* Gives back the reservation's unused end [end, limit) when no later reservation
 * follows it; returns where the event's span ends. */
static __always_inline __u64 bs_arena_settle(struct bs_emit *e, __u64 end)
{
	if (end == e->limit || __sync_val_compare_and_swap(&e->ctl->head, e->limit, end) == e->limit)
		return end;
	return e->limit;
}

/* Drops the event begun (a syscall entry held for its exit): nothing is counted. Its
 * reservation goes back to the arena, or, when another one follows it already, to user
 * space in a filler record, which releases it like any span. */
static __always_inline void bs_discard(struct bs_emit *e)
{
	__u64 start = e->hdr->arena_start;

	if (!e->ctl || bs_arena_settle(e, start) == start) {
		bpf_ringbuf_discard(e->hdr, BPF_RB_NO_WAKEUP);
		return;
	}
	e->hdr->event_index = BOOTSTRAP_FILLER_INDEX;
	e->hdr->arena_end = e->limit;
	bpf_ringbuf_submit(e->hdr, BPF_RB_NO_WAKEUP);
}

/* Whether the record of this payload size took the ring backlog across the wake-up
 * threshold. */
static __always_inline bool bs_ring_crossed(__u32 payload_size)
{
	__u64 rec = sizeof(struct bootstrap_header) + payload_size + 8; /* + ring record header */
	__u64 backlog = bpf_ringbuf_query(&bs_events_rb, BPF_RB_AVAIL_DATA);

	return backlog >= bs_wake_ring_bytes && backlog < bs_wake_ring_bytes + rec;
}

/* What the event's fields met (faults, truncation, arena losses) into its counters, once
 * the event is final: a syscall entry held for its exit counts nothing. */
static __always_inline void bs_count_fields(struct bs_emit *e)
{
	if (e->faults)
		bs_count(&e->cnt->read_faults, e->faults);
	if (e->truncs)
		bs_count(&e->cnt->truncated, e->truncs);
	if (e->losts) {
		bs_count(&e->cnt->fields_lost, e->losts);
		bs_count(&e->cnt->payload_bytes_lost, e->lost_bytes);
	}
}

/* Wake the consumer only when the backlog crosses a threshold (this record took it
 * across), not per event: wake-ups cost more than the event itself. A timer in user
 * space bounds the latency of what stays below the thresholds. */
static __always_inline void bs_commit(struct bs_emit *e, __u32 payload_size)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u64 end = e->head;

	if (e->ctl) {
		__u64 released = *(volatile __u64 *)&e->ctl->released;

		end = bs_arena_settle(e, (e->head + BOOTSTRAP_ARENA_ALIGN - 1) & ~(__u64)(BOOTSTRAP_ARENA_ALIGN - 1));
		if (end - released >= bs_wake_arena_bytes && e->hdr->arena_start - released < bs_wake_arena_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bs_ring_crossed(payload_size))
		flags = BPF_RB_FORCE_WAKEUP;
	e->hdr->arena_end = end;
	bs_count(&e->cnt->emitted, 1);
	bs_count_fields(e);
	bpf_ringbuf_submit(e->hdr, flags);
}

/* An aggregate-only event: the filters of bs_begin (only bs_enabled[] without a current
 * task), then e set up over the caller's stack header h with no arena (no variable
 * field is filled). False when filtered out. */
static __always_inline bool bs_begin_quiet(struct bs_emit *e, struct bootstrap_header *h, __u32 index,
					   bool has_task)
{
	__u32 tgid = has_task ? bpf_get_current_pid_tgid() >> 32 : 0;
	struct bootstrap_kcounters *cnt;

	if (has_task ? !bs_wanted(index, tgid) : index >= BOOTSTRAP_N_EVENTS || !bs_enabled[index])
		return false;
	cnt = bpf_map_lookup_elem(&bs_counters, &index);
	if (!cnt)
		return false;
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr = h;
	e->cnt = cnt;
	h->truncated_mask = 0;
	h->lost_mask = 0;
	return true;
}

static __always_inline void bs_end_quiet(struct bs_emit *e)
{
	bs_count_fields(e);
}

#endif
