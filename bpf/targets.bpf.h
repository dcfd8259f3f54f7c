/* targets.bpf.h: which attach target fired. One program may be attached to many
 * targets (a kprobe event given several functions at run time); each link carries its
 * target's number as the BPF cookie, and the loader fills the table it indexes. */
#ifndef BOOTSTRAP_TARGETS_BPF_H
#define BOOTSTRAP_TARGETS_BPF_H

#include "bootstrap_protocol.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bootstrap_target);
	__uint(max_entries, BOOTSTRAP_MAX_TARGETS);
} bs_targets SEC(".maps");

static __always_inline const struct bootstrap_target *bs_target(void *ctx)
{
	__u32 slot = bpf_get_attach_cookie(ctx);

	return bpf_map_lookup_elem(&bs_targets, &slot);
}

/* The name of the target that fired ("" when the table has none: never for our links). */
static __always_inline const char *bs_target_name(void *ctx)
{
	const struct bootstrap_target *t = bs_target(ctx);

	return t ? t->name : "";
}

/* Field n of a tracepoint record whose layout is only known at run time, as the loader
 * found it in the tracepoint's format, zero-extended; 0 when the record has no such
 * field. One read per size: with the size as a variable length, clang folds the bound
 * check into a form the verifier cannot follow, and the program does not load. */
static __always_inline __u64 bs_tp_arg(void *ctx, __u32 n)
{
	const struct bootstrap_target *t = bs_target(ctx);
	const void *field;
	__u64 v8 = 0;
	__u32 v4 = 0;
	__u16 v2 = 0;
	__u8 v1 = 0;

	if (!t || n >= BOOTSTRAP_MAX_ARGS)
		return 0;
	field = (const char *)ctx + t->arg_off[n];
	switch (t->arg_size[n]) {
	case 1:
		bpf_probe_read_kernel(&v1, 1, field);
		return v1;
	case 2:
		bpf_probe_read_kernel(&v2, 2, field);
		return v2;
	case 4:
		bpf_probe_read_kernel(&v4, 4, field);
		return v4;
	case 8:
		bpf_probe_read_kernel(&v8, 8, field);
		return v8;
	default:
		return 0;
	}
}

#endif
