/* select.c: which events an instance traces, from "category/name" globs. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A pattern without '/' is matched against the name alone: "sys_enter_*". */
static bool matches(const char *pattern, const char *type_name)
{
	const char *name = strchr(type_name, '/') + 1;

	return fnmatch(pattern, strchr(pattern, '/') ? type_name : name, 0) == 0;
}

int bootstrap_select_events(const char *events, bool selected[BOOTSTRAP_N_EVENTS], char *bad, size_t bad_cap)
{
	char *copy, *pattern, *save = NULL;
	int err = 0;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		selected[i] = events == NULL && !bootstrap_events[i].opt_in;
	if (!events)
		return 0;
	copy = strdup(events);
	if (!copy)
		return -ENOMEM;
	for (pattern = strtok_r(copy, ", ", &save); pattern; pattern = strtok_r(NULL, ", ", &save)) {
		bool any = false;

		for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
			if (matches(pattern, bootstrap_events[i].type_name))
				selected[i] = any = true;
		}
		if (!any) {
			if (bad_cap)
				snprintf(bad, bad_cap, "%s", pattern);
			err = -EINVAL;
			break;
		}
	}
	free(copy);
	return err;
}

int bootstrap_event_index(const char *type_name)
{
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (strcmp(bootstrap_events[i].type_name, type_name) == 0)
			return i;
	}
	return -1;
}
