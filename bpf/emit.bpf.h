/* emit.bpf.h: how one event is emitted; every generated handler goes through it.
 *
 *   bs_begin   filters, reserves header + fixed payload in the ring buffer and, for an event
 *              with variable fields, its span of this CPU's arena region; fills the header
 *   bs_var_*   appends one variable field to this CPU's arena region (or marks it lost);
 *              bs_var_stack a kernel or user stack
 *   bs_commit  gives back the unused end of the span, records it in the header, submits,
 *              wakes the consumer rarely
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
 * [arena_start, limit), taken by one compare-and-swap on arena_ctl.head from a head
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
#ifndef BOOTSTRAP_EMIT_BPF_H
#define BOOTSTRAP_EMIT_BPF_H

#define bs_barrier_var(var) asm volatile("" : "+r"(var))

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

static __always_inline bool bs_wanted(__u32 index, __u32 tgid)
{
	if (index >= BOOTSTRAP_N_EVENTS || !enabled[index] || tgid == self_tgid)
		return false;
	if (n_excluded && bpf_map_lookup_elem(&excluded_tgids, &tgid))
		return false;
	if (filter_pids && !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return false;
	if (filter_comm) {
		/* Zeroed: older kernels (6.1) copy the comm without padding the rest. */
		char comm[BOOTSTRAP_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (*(__u64 *)&comm[0] != *(volatile __u64 *)&comm_filter[0] ||
		    *(__u64 *)&comm[8] != *(volatile __u64 *)&comm_filter[8])
			return false;
	}
	return true;
}

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

	h->timestamp_ns = bpf_ktime_get_boot_ns() + boot_to_wall_ns;
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

	*cnt = bpf_map_lookup_elem(&counters, &index);
	if (!*cnt)
		return NULL;
	h = bpf_ringbuf_reserve(&events_rb, sizeof(*h) + size, 0);
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
		__u64 end = released + arena_mask + 1;
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
		e->region = bpf_map_lookup_elem(&arena, &cpu);
		e->ctl = bpf_map_lookup_elem(&arena_ctl, &cpu);
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

static __always_inline void bs_var_begin(struct bs_emit *e, struct bootstrap_var *v)
{
	v->off = e->head - e->hdr->arena_start;
	v->len = 0;
}

static __always_inline void bs_mark_lost(struct bs_emit *e, __u32 idx, __u64 bytes)
{
	e->hdr->lost_mask |= 1u << (idx & 31);
	e->losts++;
	e->lost_bytes += bytes;
}

static __always_inline void bs_mark_fault(struct bs_emit *e, __u32 idx)
{
	e->hdr->lost_mask |= 1u << (idx & 31);
	e->faults++;
}

/* False (and the field marked faulted) when user memory must not be read now. */
static __always_inline bool bs_user_ok(struct bs_emit *e, __u32 idx, bool user)
{
	if (user && e->no_user) {
		bs_mark_fault(e, idx);
		return false;
	}
	return true;
}

/* An integer of size bytes (1..8) read through a pointer; 0 and lost when it faults. */
static __always_inline __u64 bs_deref(struct bs_emit *e, __u32 idx, const void *src, __u32 size, bool user)
{
	__u64 v = 0;
	long err;

	if (!bs_user_ok(e, idx, user))
		return 0;
	err = user ? bpf_probe_read_user(&v, size, src) : bpf_probe_read_kernel(&v, size, src);
	if (err) {
		bs_mark_fault(e, idx);
		return 0;
	}
	return v;
}

static __always_inline void bs_mark_truncated(struct bs_emit *e, __u32 idx)
{
	e->hdr->truncated_mask |= 1u << (idx & 31);
	e->truncs++;
}

/* Where n more bytes go, or NULL when they do not fit in the event's reservation. */
static __always_inline char *bs_arena_dst(struct bs_emit *e, __u64 n)
{
	if (e->head + n > e->limit)
		return NULL;
	return e->region + (e->head & arena_mask);
}

/* A field whose `when` was false: present, empty. */
static __always_inline void bs_var_none(struct bs_emit *e, struct bootstrap_var *v)
{
	bs_var_begin(e, v);
}

/* len bytes at src (len-bounded char[] and char[][]), in one read of up to max bytes. */
static __always_inline void bs_var_bytes(struct bs_emit *e, struct bootstrap_var *v, __u32 idx,
					 const void *src, __u64 len, __u32 max, bool user)
{
	__u64 n = len > max ? max : len;
	char *dst;
	long err;

	bs_var_begin(e, v);
	if (len > max)
		bs_mark_truncated(e, idx);
	if (!n || !bs_user_ok(e, idx, user))
		return;
	dst = bs_arena_dst(e, n);
	if (!dst) {
		bs_mark_lost(e, idx, n);
		return;
	}
	bs_barrier_var(n);
	if (n > BOOTSTRAP_FIELD_MAX_BYTES)
		return;
	err = user ? bpf_probe_read_user(dst, n, src) : bpf_probe_read_kernel(dst, n, src);
	if (err) {
		bs_mark_fault(e, idx);
		return;
	}
	v->len = n;
	e->head += n;
}

/* The block [start, end) of user or kernel memory, e.g. argv at mm->arg_start. */
static __always_inline void bs_var_block(struct bs_emit *e, struct bootstrap_var *v, __u32 idx,
					 __u64 start, __u64 end, __u32 max, bool user)
{
	bs_var_bytes(e, v, idx, (const void *)start, end > start ? end - start : 0, max, user);
}

/* The length, NUL included, of a string bpf_probe_read_*_str() read: what it returned
 * (n >= 0; negative ones are faults, handled before), except 0, which older kernels
 * (Debian 12's 6.1 among them) return for an empty user string: their
 * strncpy_from_user_nofault() copied its NUL but did not count it. Without a branch: one
 * per string in bs_var_str_array's loop makes the verifier give up on that loop. */
static __always_inline long bs_str_len(long n)
{
	__u64 below_one = n - 1;

	bs_barrier_var(below_one);  /* or clang turns the shift back into a compare */
	return n + (below_one >> 63);
}

/* A NUL-terminated string of at most max bytes; the arena keeps its NUL (not in len) so a
 * C consumer can use it in place. A string of exactly max bytes is reported truncated. */
static __always_inline void bs_var_str(struct bs_emit *e, struct bootstrap_var *v, __u32 idx,
				       const void *src, __u32 max, bool user)
{
	char *dst;
	long n;

	bs_var_begin(e, v);
	if (!bs_user_ok(e, idx, user))
		return;
	dst = bs_arena_dst(e, max + 1);
	if (!dst) {
		bs_mark_lost(e, idx, 0);
		return;
	}
	n = user ? bpf_probe_read_user_str(dst, max + 1, src) : bpf_probe_read_kernel_str(dst, max + 1, src);
	if (n < 0) {
		bs_mark_fault(e, idx);
		return;
	}
	n = bs_str_len(n);
	if (n == max + 1)
		bs_mark_truncated(e, idx);
	v->len = n - 1;
	e->head += n;
}

/* A NULL-terminated user array of string pointers (execve's argv), as one NUL-separated
 * block of at most max bytes and max_items strings. One read per string, each continuing
 * where the previous one ended, from the field's first byte: user space reads the field
 * contiguously from there, through the slack past the region's end (never from a
 * position taken modulo the region, which would wrap to the region's start). */
static __always_inline void bs_var_str_array(struct bs_emit *e, struct bootstrap_var *v, __u32 idx,
					     const void *argv, __u32 max_items, __u32 max)
{
	const char *const *ptrs = argv;
	const char *arg;
	__u32 used = 0, i;
	char *base;

	bs_var_begin(e, v);
	if (!bs_user_ok(e, idx, true))
		return;
	base = bs_arena_dst(e, max + 1);
	if (!base) {
		bs_mark_lost(e, idx, 0);
		return;
	}
#pragma clang loop unroll(disable)
	for (i = 0; i < max_items; i++) {
		__u64 room = max + 1 - used;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &ptrs[i])) {
			bs_mark_fault(e, idx);
			break;
		}
		if (!arg)
			break;
		/* For the verifier: base + used + room stays inside the region and its slack. */
		bs_barrier_var(used);
		bs_barrier_var(room);
		if (used > BOOTSTRAP_FIELD_MAX_BYTES || room <= 1 || room > BOOTSTRAP_FIELD_MAX_BYTES + 1) {
			bs_mark_truncated(e, idx);
			break;
		}
		n = bpf_probe_read_user_str(base + used, room, arg);
		if (n < 0) {
			bs_mark_fault(e, idx);
			break;
		}
		n = bs_str_len(n);
		used += n;
		if ((__u64)n == room) {
			bs_mark_truncated(e, idx);
			break;
		}
	}
	if (i == max_items && !bpf_probe_read_user(&arg, sizeof(arg), &ptrs[i]) && arg)
		bs_mark_truncated(e, idx);
	v->len = used;
	e->head += used;
}

/* A stack of at most max_bytes / 8 frames, innermost first, as bpf_get_stack() writes
 * it (flags 0: the kernel stack, BPF_F_USER_STACK: the user stack), straight into the
 * arena at an 8-byte aligned position, so user space reads the frames as __u64 in place.
 * A stack that fills max is reported truncated; a failure counts as a read fault. */
static __always_inline void bs_var_stack(struct bs_emit *e, struct bootstrap_var *v, __u32 idx,
					 void *ctx, __u32 max_bytes, __u64 flags)
{
	char *dst;
	long n;

	e->head = (e->head + 7) & ~7ull;
	bs_var_begin(e, v);
	dst = bs_arena_dst(e, max_bytes);
	if (!dst) {
		bs_mark_lost(e, idx, 0);
		return;
	}
	n = bpf_get_stack(ctx, dst, max_bytes, flags);
	if (n < 0) {
		bs_mark_fault(e, idx);
		return;
	}
	if (n == max_bytes)
		bs_mark_truncated(e, idx);
	v->len = n;
	e->head += n;
}

/* Whether the record of this payload size took the ring backlog across the wake-up
 * threshold. */
static __always_inline bool bs_ring_crossed(__u32 payload_size)
{
	__u64 rec = sizeof(struct bootstrap_header) + payload_size + 8; /* + ring record header */
	__u64 backlog = bpf_ringbuf_query(&events_rb, BPF_RB_AVAIL_DATA);

	return backlog >= wake_ring_bytes && backlog < wake_ring_bytes + rec;
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
		if (end - released >= wake_arena_bytes && e->hdr->arena_start - released < wake_arena_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bs_ring_crossed(payload_size))
		flags = BPF_RB_FORCE_WAKEUP;
	e->hdr->arena_end = end;
	bs_count(&e->cnt->emitted, 1);
	bs_count_fields(e);
	bpf_ringbuf_submit(e->hdr, flags);
}

/* An aggregate-only event: the filters of bs_begin (only enabled[] without a current
 * task), then e set up over the caller's stack header h with no arena (no variable
 * field is filled). False when filtered out. */
static __always_inline bool bs_begin_quiet(struct bs_emit *e, struct bootstrap_header *h, __u32 index,
					   bool has_task)
{
	__u32 tgid = has_task ? bpf_get_current_pid_tgid() >> 32 : 0;
	struct bootstrap_kcounters *cnt;

	if (has_task ? !bs_wanted(index, tgid) : index >= BOOTSTRAP_N_EVENTS || !enabled[index])
		return false;
	cnt = bpf_map_lookup_elem(&counters, &index);
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
