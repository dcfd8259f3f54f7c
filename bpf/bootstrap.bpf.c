/* bootstrap.bpf.c: the kernel side. The generated handlers of every event of
 * events.toml (fill.gen.bpf.h, which includes the aggregation maps of
 * aggregate.gen.bpf.h and the helpers of bpf/ it uses), then the process tracking that
 * keeps the pid filter following forks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "fill.gen.bpf.h"
#include "follow.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
