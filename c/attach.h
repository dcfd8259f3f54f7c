/* attach.h: how the loader attaches each event (internal to the library). The table is
 * generated (attach.gen.c); the per-kind attach calls and target checks are attach.c. */
#ifndef BOOTSTRAP_ATTACH_H
#define BOOTSTRAP_ATTACH_H

#include "bootstrap.h"

/* The programs of one event, by their names in the BPF object. */
struct bs_event_progs {
	const char *prog;             /* the handler, at the event's target */
	const char *companion;        /* NULL, or a second program the event needs */
	enum bootstrap_kind companion_kind;
	const char *companion_target; /* where it attaches; NULL: the handler's own target */
	bool retries;                 /* the companion completes entries whose reads faulted */
};

extern const struct bs_event_progs bs_event_progs[BOOTSTRAP_N_EVENTS];

#endif
