/* fields.bpf.h: the field readers, which fill an event's payload between bs_begin and
 * bs_commit (record.bpf.h). bs_var_* append one variable field to the event's span of
 * this CPU's arena region (or mark it lost): bytes, a block, a string, an array of
 * strings, a kernel or user stack; bs_deref reads an integer through a pointer. Every
 * byte written lies in the event's reservation (the invariant is in record.bpf.h). */
#ifndef BOOTSTRAP_FIELDS_BPF_H
#define BOOTSTRAP_FIELDS_BPF_H

#include "maps.bpf.h"
#include "record.bpf.h"

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
	return e->region + (e->head & bs_arena_mask);
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
	barrier_var(n);
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

	barrier_var(below_one);  /* or clang turns the shift back into a compare */
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
		barrier_var(used);
		barrier_var(room);
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

#endif
