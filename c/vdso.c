/* vdso.c: the kernel's vDSO, the image the kernel maps as [vdso] into every process:
 * no file to read, so its frames are named, and unwound to their callers, from the
 * image itself (copied whole: its symbols and its .eh_frame).
 *
 * The tracer's own vDSO (getauxval(AT_SYSINFO_EHDR)) is the kernel's image for the
 * tracer's architecture, the same physical pages in every process of that architecture.
 * Another process's [vdso] is named from it only when its mapping has the image's size
 * and the pages it has in memory are those very pages (its /proc/PID/pagemap against
 * ours): a 32-bit or x32 process maps another of the kernel's images, a process restored
 * by CRIU carries a copy, and a page a process wrote into is its own copy. Otherwise
 * its frames keep their module, [vdso], and offset.
 *
 * Why page numbers rather than the bytes: reading another process's memory
 * (process_vm_readv) faults its pages in, and between the maps read and the read a
 * process can put a mapping of its own FUSE file where its vDSO was, whose server never
 * answers: the tracer would wait for good. The page table is read without faulting
 * anything in. A page not in memory yet (the kernel maps the vDSO's pages at their first
 * touch) is the kernel's when touched, so it neither confirms nor refutes; a process
 * with none in memory, or whose memory is gone (it exited), is not known: decided at a
 * later look, or never, and not counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

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

/* /proc/PID/pagemap's entry of a page: in memory, swapped out (an anonymous page), and
 * its frame number (0 to a reader without CAP_SYS_ADMIN). */
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
#define PAGEMAP_PFN ((1ull << 55) - 1)

/* The pagemap entries of the `pages` pages from address start of process pid ("self"
 * for ours): 0, or a negative errno (-ESRCH: gone). */
static int read_pagemap(const char *pid, uint64_t start, uint64_t *entries, size_t pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), want = pages * sizeof(*entries);
	char path[64];
	ssize_t got;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	got = pread(fd, entries, want, (off_t)(start / page * sizeof(*entries)));
	err = got < 0 ? -errno : (size_t)got != want ? -ESRCH : 0;  /* short: its memory is gone */
	close(fd);
	return err;
}

int bs_vdso_open(struct bs_vdso *v)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	size_t size = base ? own_mapping_size(base) : 0, page = (size_t)sysconf(_SC_PAGESIZE);
	char *image;
	int err;

	if (!size)
		return -ENOENT;
	if (!(image = malloc(size)))
		return -ENOMEM;
	memcpy(image, (const void *)(uintptr_t)base, size);  /* every page of ours is in now */
	if ((err = bs_symfile_image(&v->sf, image, size, "[vdso]")))
		return err;
	v->pages = size / page;
	if (!(v->pfns = calloc(v->pages, sizeof(*v->pfns))))
		return -ENOMEM;
	if ((err = read_pagemap("self", base, v->pfns, v->pages)))
		return err;
	for (size_t i = 0; i < v->pages; i++) {
		if (!(v->pfns[i] & PAGEMAP_PRESENT) || !(v->pfns[i] & PAGEMAP_PFN))
			return -EPERM;  /* frame numbers read as 0 without CAP_SYS_ADMIN */
		v->pfns[i] &= PAGEMAP_PFN;
	}
	return 0;
}

void bs_vdso_close(struct bs_vdso *v)
{
	bs_symfile_close(&v->sf);
	free(v->pfns);
	v->pfns = NULL;
	v->pages = 0;
}

int bs_vdso_compare(const struct bs_vdso *v, pid_t pid, const struct bs_mapped *m)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), ours = 0;
	bool other = false;
	uint64_t *theirs;
	char who[16];
	int err;

	if (m->end - m->start != v->pages * page)
		return 0;
	if (!(theirs = calloc(v->pages, sizeof(*theirs))))
		return -ENOMEM;
	snprintf(who, sizeof(who), "%d", (int)pid);
	err = read_pagemap(who, m->start, theirs, v->pages);
	for (size_t i = 0; !err && i < v->pages; i++) {
		if (theirs[i] & PAGEMAP_SWAPPED)  /* an anonymous page: a copy the process made */
			other = true;
		else if (!(theirs[i] & PAGEMAP_PRESENT))
			continue;  /* not touched yet: the kernel's page when it is */
		else if ((theirs[i] & PAGEMAP_PFN) == v->pfns[i])
			ours++;
		else
			other = true;
	}
	free(theirs);
	return err ? err : other ? 0 : ours ? 1 : -EAGAIN;
}
