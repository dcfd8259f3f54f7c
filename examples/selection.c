/* selection.c: the events ./example traces by default. A CPU sample is not something a
 * program did but a look at it, 49 times a second per CPU with two stacks each: it
 * would bury the events in samples, so sampling events (kind perf_event) are traced
 * only when -e names them, or by default with --folded, whose output is stacks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "selection.h"

static bool has_stack(const struct bootstrap_event_info *ev)
{
	for (uint32_t f = 0; f < ev->n_fields; f++) {
		if (ev->fields[f].type == BOOTSTRAP_T_STACK)
			return true;
	}
	return false;
}

static bool by_default(const struct bootstrap_event_info *ev, bool folded)
{
	return folded ? has_stack(ev) : ev->kind != BOOTSTRAP_KIND_PERF_EVENT;
}

char *default_events(bool folded)
{
	size_t len = 0;
	char *list;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		len += by_default(&bootstrap_events[i], folded) ? strlen(bootstrap_events[i].type_name) + 1 : 0;
	if (!len) {
		errno = ENOENT;
		return NULL;
	}
	if (!(list = calloc(1, len)))
		return NULL;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (!by_default(&bootstrap_events[i], folded))
			continue;
		if (*list)
			strcat(list, ",");
		strcat(list, bootstrap_events[i].type_name);
	}
	return list;
}

bool selects_stacks(const char *list)
{
	bool selected[BOOTSTRAP_N_EVENTS];

	if (bootstrap_select_events(list, selected, NULL, 0))
		return false;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (selected[i] && has_stack(&bootstrap_events[i]))
			return true;
	}
	return false;
}

bool selects_sampling(const char *list, bool folded)
{
	bool selected[BOOTSTRAP_N_EVENTS];

	if (bootstrap_select_events(list, selected, NULL, 0))
		return false;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_info *ev = &bootstrap_events[i];

		if (selected[i] && ev->kind == BOOTSTRAP_KIND_PERF_EVENT && (list || by_default(ev, folded)))
			return true;
	}
	return false;
}

size_t sampling_at(const char *list, unsigned int hz, struct bootstrap_attach *out,
		   char targets[][BOOTSTRAP_TARGET_NAME_MAX])
{
	bool selected[BOOTSTRAP_N_EVENTS];
	size_t n = 0;

	if (bootstrap_select_events(list, selected, NULL, 0))
		return 0;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (!selected[i] || bootstrap_events[i].kind != BOOTSTRAP_KIND_PERF_EVENT)
			continue;
		snprintf(targets[n], BOOTSTRAP_TARGET_NAME_MAX, "cpu-clock@%uHz", hz);
		out[n] = (struct bootstrap_attach){ .event = bootstrap_events[i].type_name, .target = targets[n] };
		n++;
	}
	return n;
}
