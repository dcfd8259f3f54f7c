/* vdso.c: the kernel's vDSO, the image the kernel maps as [vdso] into every process:
 * no file to read, so its frames are named, and unwound to their callers, from the
 * image itself (copied whole: its symbols and its .eh_frame).
 *
 * The tracer's own vDSO (getauxval(AT_SYSINFO_EHDR)) is the kernel's image for the
 * tracer's architecture, the same pages in every process of that architecture. Another
 * process's [vdso] is named from it only when the mapping has its size and holds its
 * very bytes, read from the process (process_vm_readv of a few pages, once per process
 * image): a 32-bit or x32 process maps another of the kernel's images (of the same size,
 * often), a process restored by CRIU may carry another kernel's, and a process may
 * write into its own. Otherwise its frames keep their module, [vdso], and offset. A
 * process whose memory is gone (it exited) is not known to map another image: that is
 * decided later, or never, and not counted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* process_vm_readv */
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/uio.h>

#include "vdso.h"

/* The size of our own mapping that starts at base, from /proc/self/maps; 0 if none. */
static size_t own_mapping_size(uint64_t base)
{
	char line[256];
	size_t size = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && !size && fgets(line, sizeof(line), f)) {
		uint64_t start, end;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && start == base && end > start)
			size = end - start;
	}
	if (f)
		fclose(f);
	return size;
}

int bs_vdso_open(struct bs_symfile *f)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	size_t size = base ? own_mapping_size(base) : 0;
	char *image;

	if (!size)
		return -ENOENT;
	if (!(image = malloc(size)))
		return -ENOMEM;
	memcpy(image, (const void *)(uintptr_t)base, size);
	return bs_symfile_image(f, image, size, "[vdso]");
}

int bs_vdso_compare(const struct bs_symfile *f, pid_t pid, const struct bs_mapped *m)
{
	struct iovec local, remote = { (void *)(uintptr_t)m->start, f->size };
	ssize_t got;
	char *theirs;
	int same;

	if (m->end - m->start != f->size)
		return 0;
	if (!(theirs = malloc(f->size)))
		return -ENOMEM;
	local = (struct iovec){ theirs, f->size };
	got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	/* Gone (a zombie has no memory left: ESRCH), or unmapped since its maps were read
	 * (EFAULT, a short read): not known, which is no fault of the image. */
	same = got < 0 ? -errno : got != (ssize_t)f->size ? -EFAULT : memcmp(theirs, f->image, f->size) == 0;
	free(theirs);
	return same;
}
