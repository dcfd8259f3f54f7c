/* vdso.h: naming frames in a process's [vdso] from the tracer's own vDSO (internal to
 * the library). */
#ifndef BOOTSTRAP_VDSO_H
#define BOOTSTRAP_VDSO_H

#include "symfile.h"

/* The tracer's own vDSO read into f, as module "[vdso]": 0, or a negative errno (no
 * vDSO). f->debug_root is set by the caller (a debuginfo file of it by build-id). */
int bs_vdso_open(struct bs_symfile *f);
/* Whether mapping m of process pid (its [vdso]) holds the very image f holds: 1 it
 * does, 0 it holds another, a negative errno when that could not be read (the process
 * exited, or unmapped it). */
int bs_vdso_compare(const struct bs_symfile *f, pid_t pid, const struct bs_mapped *m);

#endif
