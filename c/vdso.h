/* vdso.h: naming frames in a process's [vdso] from the tracer's own vDSO (internal to
 * the library). */
#ifndef BOOTSTRAP_VDSO_H
#define BOOTSTRAP_VDSO_H

#include <stddef.h>
#include <stdint.h>

#include "symfile.h"

struct bs_vdso {
	struct bs_symfile sf;  /* the image, as module "[vdso]"; sf.dwfl NULL: none */
	uint64_t *pfns;        /* the physical page of each of its pages */
	size_t pages;
};

/* The tracer's own vDSO read into v: 0, or a negative errno (no vDSO, or its physical
 * pages hidden: the tracer lacks CAP_SYS_ADMIN). v->sf.debug_root is set by the caller
 * (a debuginfo file of it by build-id). */
int bs_vdso_open(struct bs_vdso *v);
void bs_vdso_close(struct bs_vdso *v);
/* Whether mapping m of process pid (its [vdso]) is the very image v holds: 1 it is, 0 it
 * holds another, a negative errno when that is not known (the process exited, or has
 * none of its pages in memory yet). */
int bs_vdso_compare(const struct bs_vdso *v, pid_t pid, const struct bs_mapped *m);

#endif
