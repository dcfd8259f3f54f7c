/* packet.bpf.h: the xdp kind. A received packet is parsed once into struct bs_pkt
 * (what pkt.* sources read: length, interface, L3 and L4 protocols, addresses, ports),
 * and an xdp event begins and commits here rather than in bs_begin/bs_commit: there is
 * no current task (softirq), so no task filter applies and the header's task fields
 * stay zero, and the arena is never touched (the nesting argument is in record.bpf.h). */
#ifndef BOOTSTRAP_PACKET_BPF_H
#define BOOTSTRAP_PACKET_BPF_H

#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "record.bpf.h"

#define BS_ETH_P_IP 0x0800
#define BS_ETH_P_IPV6 0x86dd
#define BS_ETH_P_8021Q 0x8100
#define BS_ETH_P_8021AD 0x88a8
#define BS_IPPROTO_ICMPV6 58 /* not in vmlinux.h's enum */

/* pkt.proto's values; typegen reads their names from here (cstructs.py), lower case. */
enum bs_pkt_proto { BS_PROTO_OTHER, BS_PROTO_TCP, BS_PROTO_UDP, BS_PROTO_ICMP };

/* typegen reads this struct (cstructs.py): each member is a source pkt.NAME, in this
 * order in its messages, typed as its C type says (__uN: uN, struct bootstrap_ip: ip). */
struct bs_pkt {
	__u32 len;
	__u32 ifindex;
	__u16 l3_proto;  /* the ethertype after at most one VLAN tag */
	__u8 l4_proto;   /* IP protocol (IPv6: the first next header) */
	__u8 proto;      /* enum bs_pkt_proto */
	struct bootstrap_ip saddr, daddr;
	__u16 sport, dport;
};

static __always_inline void bs_pkt_v4(struct bootstrap_ip *ip, __be32 addr)
{
	ip->addr[10] = 0xff;
	ip->addr[11] = 0xff;
	__builtin_memcpy(&ip->addr[12], &addr, 4);
}

/* Whatever the packet is too short for stays zero. */
static __always_inline void bs_pkt_parse(struct xdp_md *ctx, struct bs_pkt *pkt)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__u16 *ports = NULL;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->len = end - data;
	pkt->ifindex = ctx->ingress_ifindex;
	if (l3 > end)
		return;
	pkt->l3_proto = bpf_ntohs(eth->h_proto);
	if (pkt->l3_proto == BS_ETH_P_8021Q || pkt->l3_proto == BS_ETH_P_8021AD) {
		__be16 *vlan = l3;  /* TCI, then the encapsulated ethertype */

		if ((void *)(vlan + 2) > end)
			return;
		pkt->l3_proto = bpf_ntohs(vlan[1]);
		l3 = vlan + 2;
	}
	if (pkt->l3_proto == BS_ETH_P_IP) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end)
			return;
		pkt->l4_proto = ip->protocol;
		bs_pkt_v4(&pkt->saddr, ip->saddr);
		bs_pkt_v4(&pkt->daddr, ip->daddr);
		/* Only the first fragment has the ports. */
		if (ip->ihl >= 5 && !(bpf_ntohs(ip->frag_off) & 0x1fff))
			ports = (void *)ip + ip->ihl * 4;
	} else if (pkt->l3_proto == BS_ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return;
		pkt->l4_proto = ip6->nexthdr;
		__builtin_memcpy(pkt->saddr.addr, &ip6->saddr, 16);
		__builtin_memcpy(pkt->daddr.addr, &ip6->daddr, 16);
		ports = (void *)(ip6 + 1);
	} else {
		return;
	}
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		pkt->proto = BS_PROTO_TCP;
		break;
	case IPPROTO_UDP:
		pkt->proto = BS_PROTO_UDP;
		break;
	case IPPROTO_ICMP:
	case BS_IPPROTO_ICMPV6:
		pkt->proto = BS_PROTO_ICMP;
		return;
	default:
		return;
	}
	if (ports && (void *)(ports + 2) <= end) {
		pkt->sport = bpf_ntohs(ports[0]);
		pkt->dport = bpf_ntohs(ports[1]);
	}
}

/* bs_begin for a packet: only whether the event is enabled; the header's task fields
 * are zero and the span is empty (arena_need is 0: a packet event has no variable
 * field). */
static __always_inline void *bs_begin_packet(struct bs_emit *e, __u32 index, __u32 id, __u32 size, __u32 arena_need)
{
	struct bootstrap_kcounters *cnt;
	struct bootstrap_header *h;

	if (index >= BOOTSTRAP_N_EVENTS || !bs_enabled[index])
		return NULL;
	h = bs_reserve(index, size, &cnt);
	if (!h)
		return NULL;
	__builtin_memset(h, 0, sizeof(*h));
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr = h;
	e->cnt = cnt;
	h->timestamp_ns = bpf_ktime_get_boot_ns() + bs_boot_to_wall_ns;
	h->event_id = id;
	h->event_index = index;
	h->cpu = bpf_get_smp_processor_id();
	return h + 1;
}

static __always_inline void bs_commit_packet(struct bs_emit *e, __u32 payload_size)
{
	bs_count(&e->cnt->emitted, 1);
	bpf_ringbuf_submit(e->hdr, bs_ring_crossed(payload_size) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif
