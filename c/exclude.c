/* exclude.c: bootstrap_exclude_pid(): processes left out of the trace in the kernel,
 * whatever the other filters say. An embedder excludes what its own output feeds (a
 * pager, a log shipper), whose events would otherwise be traced, written out and so
 * traced again. The kernel side looks the set up only while bs_n_excluded says it has
 * entries, so a tracer that excludes nothing pays nothing per event. */
#include <errno.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bootstrap.skel.h"
#include "internal.h"

static int add(struct bootstrap *b, int fd, __u32 tgid)
{
	__u8 one = 1;

	/* NOEXIST keeps bs_n_excluded exact: excluding twice changes nothing. */
	if (bpf_map_update_elem(fd, &tgid, &one, BPF_NOEXIST))
		return errno == EEXIST ? 0 : -errno;
	b->skel->bss->bs_n_excluded++;
	return 0;
}

static int drop(struct bootstrap *b, int fd, __u32 tgid)
{
	if (bpf_map_delete_elem(fd, &tgid))
		return errno == ENOENT ? 0 : -errno;
	b->skel->bss->bs_n_excluded--;
	return 0;
}

int bootstrap_exclude_pid(struct bootstrap *b, pid_t tgid, bool excluded)
{
	int fd;

	if (!b || tgid <= 0)
		return -EINVAL;
	fd = bpf_map__fd(b->skel->maps.bs_excl_tgids);
	return excluded ? add(b, fd, (__u32)tgid) : drop(b, fd, (__u32)tgid);
}
