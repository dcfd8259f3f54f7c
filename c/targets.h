/* targets.h: attach targets, parsed and checked (internal to the library). */
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
/* A library name resolved as the dynamic loader searches; a path must exist. */
int bs_resolve_binary(const char *binary, char *out, size_t cap);
/* The offsets of a tracepoint record's first fields, from its tracefs format. */
int bs_tracepoint_layout(const char *tracefs, const char *name, struct bootstrap_target *out);

#endif
