/* test_select.c: the event selection rule of opts.events (bootstrap_select_events):
 * no list selects every event but the opt-in ones; a pattern selects opt-in events
 * like any other. */
#include <criterion/criterion.h>
#include <string.h>

#include "bootstrap.h"

Test(select, no_list_leaves_the_opt_in_events_out)
{
	bool selected[BOOTSTRAP_N_EVENTS];
	int opt_in = 0;

	cr_assert_eq(bootstrap_select_events(NULL, selected, NULL, 0), 0);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		cr_assert_eq(selected[i], !bootstrap_events[i].opt_in, "%s", bootstrap_events[i].type_name);
		opt_in += bootstrap_events[i].opt_in;
	}
	/* events.toml has some: the TLS plaintext and the typed lines among them. */
	cr_assert(bootstrap_events[bootstrap_event_index("bash/readline")].opt_in);
	cr_assert(bootstrap_events[bootstrap_event_index("ssl/ssl_read")].opt_in);
	cr_assert(!bootstrap_events[bootstrap_event_index("syscalls/sys_enter_openat")].opt_in);
	cr_assert_lt(opt_in, BOOTSTRAP_N_EVENTS);
}

Test(select, patterns_select_opt_in_events)
{
	bool selected[BOOTSTRAP_N_EVENTS];

	cr_assert_eq(bootstrap_select_events("ssl/*,sys_enter_openat", selected, NULL, 0), 0);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const char *name = bootstrap_events[i].type_name;

		cr_assert_eq(selected[i], strncmp(name, "ssl/", 4) == 0 || strcmp(name, "syscalls/sys_enter_openat") == 0,
			     "%s", name);
	}
	/* "*" matches every name: all events, the opt-in ones too. */
	cr_assert_eq(bootstrap_select_events("*", selected, NULL, 0), 0);
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		cr_assert(selected[i], "%s", bootstrap_events[i].type_name);
}
