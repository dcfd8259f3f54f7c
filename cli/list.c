/* list.c: `--list`: the events this build knows, from the generated reflection table,
 * in a layout both people and scripts can read: one unindented line per event
 * ("category/name id=N comment", with "opt-in" after the id for an event traced only
 * when -e selects it), then one indented "field type" line per field. */
#include <stdio.h>
#include <string.h>

#include "bootstrap.h"
#include "cli.h"

static int name_width(const struct bootstrap_event_info *ev)
{
	int w = 0;

	for (uint32_t i = 0; i < ev->n_fields; i++) {
		int n = (int)strlen(ev->fields[i].name);

		if (n > w)
			w = n;
	}
	return w;
}

int run_list(const struct options *opts)
{
	bool selected[BOOTSTRAP_N_EVENTS];

	/* The list was checked when the options were parsed. Without one, every event,
	 * the opt-in ones too: "*" matches every name. */
	bootstrap_select_events(opts->events ? opts->events : "*", selected, NULL, 0);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_info *ev = &bootstrap_events[i];
		int w = name_width(ev);

		if (!selected[i])
			continue;
		printf("%s id=%u%s", ev->type_name, ev->id, ev->opt_in ? " opt-in" : "");
		if (ev->comment && *ev->comment)
			printf("  %s", ev->comment);
		putchar('\n');
		for (uint32_t f = 0; f < ev->n_fields; f++)
			printf("    %-*s  %s\n", w, ev->fields[f].name, ev->fields[f].type_name);
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}
