/* libpath.h: library names resolved as the dynamic loader does (internal to the library). */
#ifndef BOOTSTRAP_LIBPATH_H
#define BOOTSTRAP_LIBPATH_H

#include <stddef.h>

/* A library name resolved as the dynamic loader searches; a path must be a regular
 * file. 0, -ENOENT, or -ENAMETOOLONG when it does not fit out. */
int bs_resolve_binary(const char *binary, char *out, size_t cap);

#endif
