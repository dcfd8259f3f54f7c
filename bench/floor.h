/* floor.h: the record the floor's BPF program submits, shared with its loader. */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum floor_kind { FLOOR_OPENAT, FLOOR_WRITE, FLOOR_EXEC, FLOOR_NKINDS };

/* 64 bytes, the size of record whose cost the floor measures. */
struct floor_record {
	__u64 timestamp_ns;
	__u32 kind;
	__u32 tgid;
	__u32 tid;
	__u32 ppid;
	__u64 arg;        /* openat: filename pointer, write: fd, exec: 0 */
	char comm[16];
	__u8 pad[16];
};

_Static_assert(sizeof(struct floor_record) == 64, "the floor measures 64-byte records");

#endif
