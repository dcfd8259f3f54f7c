/* cli.h: what the files of ./example share: exit codes and the sub-commands that
 * main() dispatches to. */
#ifndef CLI_H
#define CLI_H

#include "options.h"

/* Exit codes, the same for every sub-command. A traced COMMAND's own status replaces
 * EXIT_OK when `-- COMMAND` is used. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2


int run_trace(const struct options *opts);
int run_list(const struct options *opts);
int run_check(void);
int run_top(const struct options *opts);

#endif
