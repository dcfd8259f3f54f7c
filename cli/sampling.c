/* sampling.c: the events --folded and -F work on. Sampling events are opt-in
 * (events.toml): without -e they are not traced, except that --folded, whose output is
 * stacks, traces every event with a stack field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "sampling.h"

static bool has_stack(const struct bootstrap_event_info *ev)
{
	for (uint32_t f = 0; f < ev->n_fields; f++) {
		if (ev->fields[f].type == BOOTSTRAP_T_STACK)
			return true;
	}
	return false;
}

char *stack_events(void)
{
	size_t len = 0;
	char *list;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		len += has_stack(&bootstrap_events[i]) ? strlen(bootstrap_events[i].type_name) + 1 : 0;
	if (!len) {
		errno = ENOENT;
		return NULL;
	}
	if (!(list = calloc(1, len)))
		return NULL;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (!has_stack(&bootstrap_events[i]))
			continue;
		if (*list)
			strcat(list, ",");
		strcat(list, bootstrap_events[i].type_name);
	}
	return list;
}

/* Whether the list selects an event that pred holds for. */
static bool selects(const char *list, bool (*pred)(const struct bootstrap_event_info *ev))
{
	bool selected[BOOTSTRAP_N_EVENTS];

	if (bootstrap_select_events(list, selected, NULL, 0))
		return false;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (selected[i] && pred(&bootstrap_events[i]))
			return true;
	}
	return false;
}

static bool is_sampling(const struct bootstrap_event_info *ev)
{
	return ev->kind == BOOTSTRAP_KIND_PERF_EVENT;
}

bool selects_stacks(const char *list)
{
	return selects(list, has_stack);
}

bool selects_sampling(const char *list)
{
	return selects(list, is_sampling);
}

size_t sampling_at(const char *list, unsigned int hz, struct bootstrap_attach *out,
		   char targets[][BOOTSTRAP_TARGET_NAME_MAX])
{
	bool selected[BOOTSTRAP_N_EVENTS];
	size_t n = 0;

	if (bootstrap_select_events(list, selected, NULL, 0))
		return 0;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (!selected[i] || !is_sampling(&bootstrap_events[i]))
			continue;
		snprintf(targets[n], BOOTSTRAP_TARGET_NAME_MAX, "cpu-clock@%uHz", hz);
		out[n] = (struct bootstrap_attach){ .event = bootstrap_events[i].type_name, .target = targets[n] };
		n++;
	}
	return n;
}
