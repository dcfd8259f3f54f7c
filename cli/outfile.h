/* outfile.h: opens -o FILE for a tracer that runs as root, refusing what another user
 * may have planted at that name. */
#ifndef CLI_OUTFILE_H
#define CLI_OUTFILE_H

#include <stddef.h>

/* Opens path for writing: a new file created 0600 (and, under sudo, given to the
 * invoking user), an existing regular file truncated and set to 0600, an existing FIFO
 * or device as it is. Never through a symlink; an existing FILE must be a regular file
 * with no other name or a FIFO, owned by root or the invoking user, or a character
 * device of root's (/dev/null). Returns the descriptor, or
 * a negative errno: -EPERM with the reason in why when FILE was refused (nothing was
 * written to it then). */
int outfile_open(const char *path, char *why, size_t why_cap);

#endif
