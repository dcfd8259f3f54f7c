/* main.c: ./example, the NDJSON command-line tracer: parses the command line and
 * runs the chosen sub-command (trace, --list, check, --help, --version). */
#include <stdio.h>

#include "bootstrap.h"
#include "cli.h"

int main(int argc, char **argv)
{
	struct options opts;
	int rc = parse_options(argc, argv, &opts);

	if (rc)
		return rc;
	switch (opts.mode) {
	case MODE_HELP:
		print_help();
		rc = EXIT_OK;
		break;
	case MODE_VERSION:
		printf("example %s (libbootstrap, %d events)\n", BOOTSTRAP_VERSION, BOOTSTRAP_N_EVENTS);
		rc = EXIT_OK;
		break;
	case MODE_LIST:
		rc = run_list(&opts);
		break;
	case MODE_CHECK:
		rc = run_check();
		break;
	case MODE_TRACE:
		rc = run_trace(&opts);
		break;
	case MODE_TOP:
		rc = run_top(&opts);
		break;
	}
	free_options(&opts);
	return rc;
}
