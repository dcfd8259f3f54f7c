/* probes.c: see probes.h. Each probe option is one bootstrap_attach entry for a generic
 * probe/KIND event; --binary and --uprobe-pid are entries for the uprobe events the
 * selection holds, since a run-time entry is how the library moves an event's target. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int push(struct probes *p, const char *event, const char *target, pid_t pid)
{
	struct bootstrap_attach *grown = realloc(p->attach, (p->n_attach + 1) * sizeof(*grown));

	if (!grown)
		return usage_error("%s", strerror(ENOMEM));
	grown[p->n_attach++] = (struct bootstrap_attach){ .event = event, .target = target, .pid = pid };
	p->attach = grown;
	return 0;
}

int probes_add(struct probes *p, const char *kind, const char *target)
{
	char event[64], why[512], msg[600];
	int i;

	snprintf(event, sizeof(event), "probe/%s", kind);
	i = bootstrap_event_index(event);
	if (i < 0)
		return usage_error("--%s needs the event probe/%s, which this build's events.toml lacks", kind);
	if (bootstrap_target_parse(i, target, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "--%s: %s", kind, why);
		return usage_error("%s", msg);
	}
	return push(p, bootstrap_events[i].type_name, target, 0);
}

/* The kinds --binary and --uprobe-pid apply to: a program's or library's functions. */
static bool is_uprobe(enum bootstrap_kind kind)
{
	return bootstrap_kinds[kind].per_process;
}

/* The distinct events of the entries so far, comma-separated: a selection of nothing
 * else. */
static int probe_events(struct probes *p)
{
	size_t len = 0, cap = 1;

	for (size_t k = 0; k < p->n_attach; k++)
		cap += strlen(p->attach[k].event) + 1;
	p->events = malloc(cap);
	if (!p->events)
		return usage_error("%s", strerror(ENOMEM));
	for (size_t k = 0; k < p->n_attach; k++) {
		bool seen = false;

		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(p->attach[j].event, p->attach[k].event) == 0;
		if (!seen)
			len += snprintf(p->events + len, cap - len, "%s%s", len ? "," : "", p->attach[k].event);
	}
	return 0;
}

/* --binary: every selected uprobe event that declares a target attaches to PATH. */
static int apply_binary(struct probes *p, const bool selected[BOOTSTRAP_N_EVENTS])
{
	size_t before = p->n_attach;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_info *ev = &bootstrap_events[i];

		if (selected[i] && is_uprobe(ev->kind) && ev->target && push(p, ev->type_name, p->binary, 0))
			return EXIT_USAGE;
	}
	if (p->n_attach == before)
		return usage_error("--binary '%s' replaces the binary of the selected uprobe events of events.toml, "
				   "and none is selected", p->binary);
	return 0;
}

/* --iface: every selected xdp event attaches to IFACE (the options checked there is one). */
static int apply_iface(struct probes *p, const bool selected[BOOTSTRAP_N_EVENTS])
{
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		if (selected[i] && bootstrap_events[i].kind == BOOTSTRAP_KIND_XDP &&
		    push(p, bootstrap_events[i].type_name, p->iface, 0))
			return EXIT_USAGE;
	return 0;
}

/* Whether event `name` has an entry already. */
static bool has_entry(const struct probes *p, const char *name)
{
	for (size_t k = 0; k < p->n_attach; k++)
		if (strcmp(p->attach[k].event, name) == 0)
			return true;
	return false;
}

/* --uprobe-pid: every uprobe target, given or declared, once per process. */
static int apply_pids(struct probes *p, const bool selected[BOOTSTRAP_N_EVENTS])
{
	size_t n;

	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_info *ev = &bootstrap_events[i];

		if (selected[i] && is_uprobe(ev->kind) && ev->target && !has_entry(p, ev->type_name) &&
		    push(p, ev->type_name, NULL, 0))
			return EXIT_USAGE;
	}
	n = p->n_attach;
	for (size_t k = 0; k < n; k++) {
		const struct bootstrap_attach a = p->attach[k];

		if (!is_uprobe(bootstrap_events[bootstrap_event_index(a.event)].kind))
			continue;
		p->attach[k].pid = p->pids[0];
		for (size_t j = 1; j < p->n_pids; j++)
			if (push(p, a.event, a.target, p->pids[j]))
				return EXIT_USAGE;
	}
	for (size_t k = 0; k < p->n_attach; k++)
		if (p->attach[k].pid)
			return 0;
	return usage_error("%s", "--uprobe-pid restricts uprobes to a process, and no uprobe is selected");
}

int probes_finish(struct probes *p, const char **events)
{
	bool selected[BOOTSTRAP_N_EVENTS];
	int err;

	if (p->iface) {
		bootstrap_select_events(*events, selected, NULL, 0);
		err = apply_iface(p, selected);
		if (err)
			return err;
	}
	if (!*events && p->n_attach) {
		err = probe_events(p);
		if (err)
			return err;
		*events = p->events;
	}
	if (!p->binary && !p->n_pids)
		return 0;
	/* The list was checked already: a usage error before this. */
	bootstrap_select_events(*events, selected, NULL, 0);
	err = p->binary ? apply_binary(p, selected) : 0;
	return err ? err : p->n_pids ? apply_pids(p, selected) : 0;
}

void probes_free(struct probes *p)
{
	free(p->attach);
	free(p->pids);
	free(p->events);
	memset(p, 0, sizeof(*p));
}
