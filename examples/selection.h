/* selection.h: which events ./example traces when -e names none, and what --folded needs. */
#ifndef EXAMPLE_SELECTION_H
#define EXAMPLE_SELECTION_H

#include <stdbool.h>

/* The events list for the library when -e gave none (malloc'd, "cat/name,..."): every
 * event but the sampling ones, or with folded every event with a stack. NULL when
 * that is nothing, or on ENOMEM (errno says which). */
char *default_events(bool folded);
/* Whether the list (NULL: the default one) selects an event with a stack field. */
bool selects_stacks(const char *list);

#endif
