/* record.h: the check of one ring record before anything reads it (internal to the
 * library). */
#ifndef BOOTSTRAP_RECORD_H
#define BOOTSTRAP_RECORD_H

#include "arena.h"
#include "bootstrap.h"

/* Per event (generated, json.gen.c): its user stack field unwound in user space
 * (unwind = "dwarf"), whose kernel bytes are saved registers and a stack copy rather
 * than frames: the field's index or -1, and the most frames it is unwound to. */
struct bs_unwind_field {
	int field;
	uint32_t max_frames;
};
extern const struct bs_unwind_field bs_unwind_fields[BOOTSTRAP_N_EVENTS];

enum bs_record {
	BS_RECORD_OK,        /* sound: its variable fields are resolved in place */
	BS_RECORD_STALE,     /* sound, but its arena bytes were released (lapped): its variable
				fields are delivered lost and it releases nothing */
	BS_RECORD_MALFORMED, /* no program of ours writes this: drop it and release nothing */
};

/* Checks the record of size bytes at data (a header and its event's payload) against
 * the generated reflection table and this CPU's arena region, and fills vars (room for
 * BOOTSTRAP_MAX_FIELDS) with its variable fields. After BS_RECORD_OK or BS_RECORD_STALE
 * every length in vars lies within the arena element of h->cpu, so the readers of the
 * event trust them without checking again. */
enum bs_record bs_record_check(const struct arena *a, const void *data, size_t size,
			       struct bootstrap_field_value *vars);

#endif
