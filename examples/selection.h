/* selection.h: which events ./example traces when -e names none, and what --folded needs. */
#ifndef EXAMPLE_SELECTION_H
#define EXAMPLE_SELECTION_H

#include <stdbool.h>

#include "bootstrap.h"

/* The events list for the library when -e gave none (malloc'd, "cat/name,..."): every
 * event but the sampling ones, or with folded every event with a stack. NULL when
 * that is nothing, or on ENOMEM (errno says which). */
char *default_events(bool folded);
/* Whether the list (NULL: every event) selects an event with a stack field. */
bool selects_stacks(const char *list);
/* Whether the list (NULL: the default one, as folded says) selects a sampling event. */
bool selects_sampling(const char *list, bool folded);
/* opts.attach entries that sample every selected sampling event at hz (targets gives
 * their text room, one per event); returns how many. */
size_t sampling_at(const char *list, unsigned int hz, struct bootstrap_attach *out,
		   char targets[][BOOTSTRAP_TARGET_NAME_MAX]);

#endif
