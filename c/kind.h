/* kind.h: the operations of a kind of probe (internal to the library).
 *
 * Each kind's are defined as bs_kind_NAME_ops by the C file of its family:
 * kind_tracepoint.c, kind_kfunc.c (kernel functions), kind_ufunc.c (user functions),
 * kind_sample.c (CPU sampling), kind_packet.c (network interfaces). The generated
 * kind_ops.gen.c indexes them by enum bootstrap_kind (typegen/kinds.py), so a kind without
 * its operations does not link. */
#ifndef BOOTSTRAP_KIND_H
#define BOOTSTRAP_KIND_H

#include <stddef.h>

#include "bootstrap.h"

struct bootstrap;
struct bpf_link;
struct bpf_program;
struct bs_target;

struct bs_kind_ops {
	/* text into t (zeroed, its kind set); declared: the event's own target, or NULL.
	 * 0, -EINVAL when malformed, -ENAMETOOLONG when its name does not fit. */
	int (*parse)(const char *text, const char *declared, struct bs_target *t);
	/* Whether this kernel has the kind at all: 0, or -ENOTSUP and why. NULL: always. */
	int (*available)(char *why, size_t cap);
	/* Whether this machine has the target: 0, or a negative errno and why. */
	int (*check)(struct bs_target *t, const char *tracefs, char *why, size_t cap);
	/* Before the object is loaded: what prog must know of its target then (a BTF
	 * program's attach target: bpf_program__set_attach_target). NULL: nothing. */
	int (*prepare)(struct bpf_program *prog, const struct bs_target *t);
	/* After load: prog attached to t, its links kept with bs_add_link(). `where` is
	 * what it attaches to, when not t itself (a companion's tracepoint). cookie: the
	 * target's slot, for bpf_get_attach_cookie(). 0 or -errno. */
	int (*attach)(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, const char *where,
		      __u64 cookie);
};

extern const struct bs_kind_ops *const bs_kind_ops[BOOTSTRAP_N_KINDS];

/* attach.c: link kept by b until it is closed. 0, or -ENOMEM with link destroyed;
 * a NULL link is libbpf's failure: -errno. */
int bs_add_link(struct bootstrap *b, struct bpf_link *link);

#endif
