/* bootstrap.bpf.c: the kernel side. Maps, aggregation and emit helpers, then the
 * generated aggregation maps and handlers of every event of events.toml
 * (aggregate.gen.bpf.h, fill.gen.bpf.h), then the process tracking
 * that keeps the pid filter following forks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bootstrap_protocol.h"
#include "events.gen.h"
#include "compat.bpf.h"
#include "maps.bpf.h"
#include "aggregate.bpf.h"
#include "emit.bpf.h"
#include "ustack_copy.bpf.h"
#include "packet.bpf.h"
#include "targets.bpf.h"
#include "entry.bpf.h"
#include "retry.bpf.h"
#include "auxv.bpf.h"
#include "aggregate.gen.bpf.h"
#include "fill.gen.bpf.h"
#include "follow.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
