/* match.h: the -e event selection rule, checked here so a pattern that selects nothing
 * is a usage error before anything is started. */
#ifndef EXAMPLE_MATCH_H
#define EXAMPLE_MATCH_H

#include <stdbool.h>

/* Whether the glob selects "category/name"; a pattern without '/' matches the name alone,
 * the rule bootstrap_open() applies to opts.events. */
bool event_matches(const char *pattern, const char *type_name);

/* Whether event type_name is selected by the comma-separated list (NULL = all). */
bool event_selected(const char *list, const char *type_name);

/* The first pattern of the list that selects no event, copied to bad; false if none. */
bool find_unmatched(const char *list, char *bad, size_t cap);

#endif
