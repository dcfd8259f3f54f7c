/* internal.h: the library's private state and the helpers its files share. */
#ifndef BOOTSTRAP_INTERNAL_H
#define BOOTSTRAP_INTERNAL_H

#include <signal.h>

#include "arena.h"
#include "bootstrap.h"
#include "ringbuf.h"

struct bootstrap_bpf;
struct bpf_link;
struct bs_target;
struct bs_agg_state;

struct bootstrap {
	struct bootstrap_bpf *skel;
	struct ringbuf ring;
	struct arena arena;
	void *arena_mem;
	size_t arena_mem_len;
	void *ctl_mem;
	size_t ctl_mem_len;
	struct bs_target *targets;          /* what is attached; a target's index is its cookie */
	size_t n_targets;
	struct bpf_link **links;            /* up to two per target: companion, handler; or
					       a sampling target's one per CPU */
	size_t n_links;
	struct bpf_link *track_links[2];
	bool selected[BOOTSTRAP_N_EVENTS];  /* asked for, with a target here, attached */
	int epfd, timerfd, stopfd;
	volatile sig_atomic_t stopped;
	bool quiesced;  /* after a stop: the kernel side no longer produces */
	/* The poll in progress: its callback and whether that callback asked to stop. */
	bootstrap_event_fn fn;
	void *fn_ctx;
	bool cb_stop;
	uint64_t delivered[BOOTSTRAP_N_EVENTS];
	uint64_t arena_lapped;
	uint64_t records_malformed;
	uint64_t map_bytes_planned;  /* what the sizes ask for: quoted when the kernel refuses */
	unsigned int ncpu;
	struct bootstrap_symbolizer *sym;   /* names the frames of stack fields, when selected */
	uint64_t unwound[BOOTSTRAP_FIELD_MAX_BYTES / 8];  /* the event's user stack, unwound */
	struct bs_agg_state *agg;    /* the previous delta read (aggregate.c) */
	uint64_t opened_ns;          /* CLOCK_MONOTONIC at open: the first delta's start */
	bootstrap_log_fn log;
	void *log_ctx;
};

__attribute__((format(printf, 3, 4)))
void bs_log(const struct bootstrap *b, enum bootstrap_log_level level, const char *fmt, ...);

/* Mounts tracefs when it is not mounted; returns its root or NULL (logged). */
const char *bs_ensure_tracefs(const struct bootstrap *b);

/* attach.c: the targets of the selected events, checked (before load); which programs
 * load, prepared for their targets; attaching every target (after load). */
int bs_plan_targets(struct bootstrap *b, const struct bootstrap_opts *o, const char *tracefs);
int bs_set_autoload(struct bootstrap *b);
int bs_attach_targets(struct bootstrap *b, bool strict);

/* The ring buffer callback: turns one record into a bootstrap_event (poll.c), or drops
 * and counts one that fails bs_record_check(); non-zero ends the batch after this record. */
int bs_on_record(void *ctx, void *data, size_t size);

#endif
