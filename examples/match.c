/* match.c: which events a -e list selects, using the reflection table. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "match.h"

/* The library splits the list at commas and spaces; so does this. */
#define SEPARATORS ", "

bool event_matches(const char *pattern, const char *type_name)
{
	const char *subject = strchr(pattern, '/') ? type_name : strchr(type_name, '/') + 1;

	return fnmatch(pattern, subject, 0) == 0;
}

/* Calls fn for each pattern of the list until it returns true; returns that. */
static bool each_pattern(const char *list, bool (*fn)(const char *pattern, void *ctx), void *ctx)
{
	char *copy = strdup(list), *save = NULL;
	bool hit = false;

	if (!copy)
		return false;
	for (char *p = strtok_r(copy, SEPARATORS, &save); p && !hit; p = strtok_r(NULL, SEPARATORS, &save))
		hit = fn(p, ctx);
	free(copy);
	return hit;
}

static bool selects(const char *pattern, void *type_name)
{
	return event_matches(pattern, type_name);
}

bool event_selected(const char *list, const char *type_name)
{
	return !list || each_pattern(list, selects, (void *)type_name);
}

struct unmatched {
	char *bad;
	size_t cap;
};

static bool selects_nothing(const char *pattern, void *ctx)
{
	struct unmatched *u = ctx;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (event_matches(pattern, bootstrap_events[i].type_name))
			return false;
	}
	snprintf(u->bad, u->cap, "%s", pattern);
	return true;
}

bool find_unmatched(const char *list, char *bad, size_t cap)
{
	struct unmatched u = { bad, cap };

	return each_pattern(list, selects_nothing, &u);
}
