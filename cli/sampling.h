/* sampling.h: what --folded and -F select when -e names nothing. */
#ifndef CLI_SAMPLING_H
#define CLI_SAMPLING_H

#include <stdbool.h>

#include "bootstrap.h"

/* The events with a stack field ("cat/name,..."), malloc'd: --folded's selection
 * without -e. NULL when there is none (errno ENOENT) or on ENOMEM. */
char *stack_events(void);
/* Whether the list (NULL: the library's default selection) selects an event with a
 * stack field. */
bool selects_stacks(const char *list);
/* Whether it selects a sampling event (kind perf_event). */
bool selects_sampling(const char *list);
/* opts.attach entries that sample every selected sampling event at hz (targets gives
 * their text room, one per event); returns how many. */
size_t sampling_at(const char *list, unsigned int hz, struct bootstrap_attach *out,
		   char targets[][BOOTSTRAP_TARGET_NAME_MAX]);

#endif
