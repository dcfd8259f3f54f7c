/* probes.h: ./example's probe options (--kprobe, --kretprobe, --uprobe, --uretprobe,
 * --tracepoint, --binary, --uprobe-pid, and --iface for xdp events) as the library's
 * run-time targets. */
#ifndef CLI_PROBES_H
#define CLI_PROBES_H

#include <stddef.h>
#include <sys/types.h>

#include "bootstrap.h"

struct probes {
	struct bootstrap_attach *attach;  /* for bootstrap_opts.attach */
	size_t n_attach;
	const char *binary;               /* --binary */
	const char *iface;                /* --iface */
	pid_t *pids;                      /* --uprobe-pid, repeatable */
	size_t n_pids;
	char *events;                     /* the selection when only the probes are traced */
};

/* The probe option --KIND TARGET ("kprobe", "do_sys_openat2"): a target of the event
 * probe/KIND, checked for form only (a target missing on this machine is the library's
 * warning, not a usage error). Returns 0 or EXIT_USAGE after saying why. */
int probes_add(struct probes *p, const char *kind, const char *target);
/* Once every option is in: --iface becomes the target of the selected xdp events; then
 * without -e (*events NULL), only the probes are traced; --binary and --uprobe-pid
 * become targets of the selected uprobe events. Returns 0 or
 * EXIT_USAGE after saying why. */
int probes_finish(struct probes *p, const char **events);
void probes_free(struct probes *p);

#endif
