/* open_safe.h: opening a file another user may control (internal to the library). */
#ifndef BOOTSTRAP_OPEN_SAFE_H
#define BOOTSTRAP_OPEN_SAFE_H

#include <sys/stat.h>

/* Opens path for reading if it is a regular file, and nothing else is ever opened: no
 * device's driver is called (opening a watchdog arms it), no FIFO waited on, no
 * terminal made the tracer's, no lease waited for; *st is the file's fstat. Returns the
 * descriptor (close-on-exec), a negative errno, or -EINVAL when path is not a regular
 * file. */
int bs_open_regular(const char *path, struct stat *st);

#endif
