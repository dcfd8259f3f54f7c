/* targets.h: attach targets, parsed and checked (internal to the library). What differs
 * between kinds is each kind's operations (kind.h); these are the calls that choose them. */
#ifndef BOOTSTRAP_TARGETS_H
#define BOOTSTRAP_TARGETS_H

#include <limits.h>
#include <sys/types.h>

#include "bootstrap.h"

struct bs_target {
	enum bootstrap_kind kind;
	char name[BOOTSTRAP_TARGET_NAME_MAX]; /* as events report it: cat/name, function, binary:function */
	char function[BOOTSTRAP_TARGET_NAME_MAX];
	char binary[256];                     /* as given: a path or a library name */
	char path[PATH_MAX];                  /* the binary's resolved path (after a check) */
	pid_t pid;                            /* uprobes: only this process; 0 = every one */
	unsigned long frequency;              /* perf_event: samples per second per CPU */
	/* tracepoints (after a check): the offsets and sizes of the record's first fields,
	 * for a handler that reads a run-time tracepoint's arguments (the target table) */
	__u16 arg_off[BOOTSTRAP_MAX_ARGS];
	__u8 arg_size[BOOTSTRAP_MAX_ARGS];
	int event;                            /* the event index it belongs to */
};

/* Parses a target of `kind`; `declared` is the event's own target, whose function a
 * uprobe override naming only a binary keeps. 0, -EINVAL when
 * malformed, -ENAMETOOLONG when its name does not fit the target table. */
int bs_target_parse(enum bootstrap_kind kind, const char *text, const char *declared, struct bs_target *t);
/* How a target of event `ev` is written, for messages. */
const char *bs_target_syntax(const struct bootstrap_event_info *ev);
/* 0 when this kernel can attach probes of `kind` at all; else -ENOTSUP and why. */
int bs_kind_check(enum bootstrap_kind kind, char *why, size_t cap);
/* 0 when this machine has the target; else a negative errno and why (for a person). */
int bs_target_check(struct bs_target *t, const char *tracefs, char *why, size_t cap);
/* Sets t->name, as snprintf formats it: 0, or -ENAMETOOLONG when it does not fit. */
__attribute__((format(printf, 2, 3)))
int bs_target_set_name(struct bs_target *t, const char *fmt, ...);

#endif
