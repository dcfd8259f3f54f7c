/* emit.bpf.h: how one event is emitted; every generated handler goes through it.
 *
 *   bs_begin   filters, reserves header + fixed payload in the ring buffer, fills the header
 *   bs_var_*   appends one variable field to this CPU's arena region (or marks it lost);
 *              bs_var_stack a kernel or user stack
 *   bs_commit  records the arena span in the header, submits, wakes the consumer rarely
 *   bs_begin_quiet / bs_end_quiet  the same filters for an aggregate-only event, which
 *              sends nothing: its header (only the masks are used) and payload are on
 *              the handler's stack, and only the fields its aggregations read are filled
 *
 * Handlers can interleave on one CPU. Tracepoint, kprobe and perf_event programs run
 * through trace_call_bpf()/bpf_overflow_handler(), which skip any such program while
 * another runs on the same CPU (the per-CPU bpf_prog_active count), but uprobe programs
 * do not take part (they run preemptible, with migration disabled only). So each event
 * takes this CPU's arena for itself: bs_begin() increments arena_ctl.busy atomically and
 * proceeds only from 0; an event that finds it taken is dropped and counted
 * (arena_busy); bs_commit() and bs_discard() release it. Inside, the arena head and the
 * event's counters are plain per-CPU loads and stores.
 * XDP programs run in softirq and may interrupt any handler between its bs_begin and
 * its bs_commit. They cannot corrupt the arena because they never touch it: an xdp
 * event has no variable fields (typegen rejects them), and its begin and commit
 * (packet.bpf.h) neither read nor write arena_ctl; the records carry an empty span,
 * which user space neither checks nor releases (c/poll.c). What they do share is safe
 * in any context: ring buffer reservation (the kernel serializes producers with an
 * irq-safe lock), per-CPU counters and aggregation maps of their own event index only,
 * and the read-only filters.
 * Arena positions are monotonic 64-bit counters; the kernel writes a field only below
 * released + region size, so bytes user space has not released are never overwritten.
 */
#ifndef BOOTSTRAP_EMIT_BPF_H
#define BOOTSTRAP_EMIT_BPF_H

#define bs_barrier_var(var) asm volatile("" : "+r"(var))

struct bs_emit {
	struct bootstrap_header *hdr;
	struct bootstrap_kcounters *cnt;
	struct bootstrap_arena_ctl *ctl;
	char *region;  /* this CPU's arena element */
	__u64 head;    /* next free arena position */
	__u64 limit;   /* first position that may still hold unreleased bytes */
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
		(*cnt)->ringbuf_full++;
	return h;
}

/* Ends this CPU's exclusive use of its arena. Whoever interrupted us has undone its
 * own increment before we resumed, so the count is ours alone: a plain store. */
static __always_inline void bs_release(struct bootstrap_arena_ctl *ctl)
{
	*(volatile __u64 *)&ctl->busy = 0;
}

/* Returns the payload (right after the header in the ring record), or NULL when the event
 * is filtered out or dropped (ring buffer full, or the arena taken: counted). size must
 * be a constant. */
static __always_inline void *bs_begin(struct bs_emit *e, __u32 index, __u32 id, __u32 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bootstrap_arena_ctl *ctl;
	struct bootstrap_kcounters *cnt;
	struct bootstrap_header *h;
	__u64 released;
	char *region;
	__u32 cpu;

	if (!bs_wanted(index, pid_tgid >> 32))
		return NULL;
	if (top_mode) {
		bs_top_count(index, pid_tgid >> 32);
		return NULL;
	}
	cpu = bpf_get_smp_processor_id();
	region = bpf_map_lookup_elem(&arena, &cpu);
	ctl = bpf_map_lookup_elem(&arena_ctl, &cpu);
	if (!region || !ctl)
		return NULL;
	/* This CPU's arena and counters are ours until commit (see the top of this file). */
	if (__sync_fetch_and_add(&ctl->busy, 1)) {
		__sync_fetch_and_add(&ctl->busy, -1);
		cnt = bpf_map_lookup_elem(&counters, &index);
		if (cnt)
			__sync_fetch_and_add(&cnt->arena_busy, 1);
		return NULL;
	}
	h = bs_reserve(index, size, &cnt);
	if (!h) {
		bs_release(ctl);
		return NULL;
	}
	e->hdr = h;
	e->cnt = cnt;
	e->ctl = ctl;
	e->region = region;
	e->head = ctl->head;
	released = *(volatile __u64 *)&ctl->released;
	/* released past head would be a confused consumer: then write nothing at all. */
	e->limit = released <= e->head ? released + arena_mask + 1 : e->head;
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

/* Drops the event begun (a syscall entry held for its exit): nothing is counted. */
static __always_inline void bs_discard(struct bs_emit *e)
{
	bpf_ringbuf_discard(e->hdr, BPF_RB_NO_WAKEUP);
	bs_release(e->ctl);
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

/* Where n more bytes go, or NULL when they would reach unreleased bytes. */
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
 * block of at most max bytes and max_items strings. */
static __always_inline void bs_var_str_array(struct bs_emit *e, struct bootstrap_var *v, __u32 idx,
					     const void *argv, __u32 max_items, __u32 max)
{
	const char *const *ptrs = argv;
	const char *arg;
	__u32 used = 0, i;

	bs_var_begin(e, v);
	if (!bs_user_ok(e, idx, true))
		return;
	if (!bs_arena_dst(e, max + 1)) {
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
		bs_barrier_var(room);
		if (room <= 1 || room > BOOTSTRAP_FIELD_MAX_BYTES + 1) {
			bs_mark_truncated(e, idx);
			break;
		}
		n = bpf_probe_read_user_str(e->region + ((e->head + used) & arena_mask), room, arg);
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
	e->cnt->read_faults += e->faults;
	e->cnt->truncated += e->truncs;
	e->cnt->fields_lost += e->losts;
	e->cnt->payload_bytes_lost += e->lost_bytes;
}

/* Wake the consumer only when the backlog crosses a threshold (this record took it
 * across), not per event: wake-ups cost more than the event itself. A timer in user
 * space bounds the latency of what stays below the thresholds. */
static __always_inline void bs_commit(struct bs_emit *e, __u32 payload_size)
{
	__u64 used_after = e->head - e->ctl->released;
	__u64 used_before = e->hdr->arena_start - e->ctl->released;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bs_ring_crossed(payload_size) ||
	    (used_after >= wake_arena_bytes && used_before < wake_arena_bytes))
		flags = BPF_RB_FORCE_WAKEUP;
	e->hdr->arena_end = e->head;
	e->ctl->head = e->head;
	e->cnt->emitted++;
	bs_count_fields(e);
	bpf_ringbuf_submit(e->hdr, flags);
	bs_release(e->ctl);
}

/* An aggregate-only event: the filters of bs_begin (only enabled[] without a current
 * task), then e set up over the caller's stack header h with no arena (no variable
 * field is filled). False when filtered out, or counted for `top` instead. */
static __always_inline bool bs_begin_quiet(struct bs_emit *e, struct bootstrap_header *h, __u32 index,
					   bool has_task)
{
	__u32 tgid = has_task ? bpf_get_current_pid_tgid() >> 32 : 0;
	struct bootstrap_kcounters *cnt;

	if (has_task ? !bs_wanted(index, tgid) : index >= BOOTSTRAP_N_EVENTS || !enabled[index])
		return false;
	if (has_task && top_mode) {
		bs_top_count(index, tgid);
		return false;
	}
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
