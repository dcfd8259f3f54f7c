/* open_safe.h: opening a file another user may control (internal to the library). */
#ifndef BOOTSTRAP_OPEN_SAFE_H
#define BOOTSTRAP_OPEN_SAFE_H

#include <sys/stat.h>

/* Opens path read-only as a regular file and nothing else: never blocking in open()
 * (a FIFO without a writer, a file whose owner holds a lease), never making a terminal
 * the tracer's own, then fstat()ed into *st. Returns the descriptor (close-on-exec), a
 * negative errno from open or fstat, or -EINVAL when it is not a regular file (closed
 * again before anything was read from it). */
int bs_open_regular(const char *path, struct stat *st);

#endif
