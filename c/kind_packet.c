/* kind_packet.c: the kind of a network interface's receive path, xdp. A target is an
 * interface's name; this machine has it when the interface exists. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "kind.h"
#include "targets.h"

static int parse(const char *text, const char *declared, struct bs_target *t)
{
	(void)declared;
	if (strchr(text, ':') || !*text || strchr(text, '/') || strlen(text) >= IF_NAMESIZE)
		return -EINVAL;
	return bs_target_set_name(t, "%s", text);
}

static int check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	(void)tracefs;
	if (if_nametoindex(t->name))
		return 0;
	snprintf(why, cap, "no network interface %s here", t->name);
	return -ENODEV;
}

/* A bpf_link, so the program goes with the last fd, even when the process is killed.
 * Without mode flags the kernel takes the driver's native mode when the driver has one
 * and the generic one otherwise. XDP links carry no cookie: the packet says its
 * interface (pkt.ifindex). */
static int attach(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, const char *where,
		  __u64 cookie)
{
	unsigned int ifindex = if_nametoindex(t->name);

	(void)where, (void)cookie;
	if (!ifindex)
		return -ENODEV;
	return bs_add_link(b, bpf_program__attach_xdp(prog, (int)ifindex));
}

const struct bs_kind_ops bs_kind_xdp_ops = { .parse = parse, .check = check, .attach = attach };
