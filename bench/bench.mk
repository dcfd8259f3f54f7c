# bench.mk: builds the benchmark tools and runs the benchmark (`make bench`).
# Included by the top Makefile, which provides BUILD, CC, CLANG, BPFTOOL, CFLAGS,
# BPF_CFLAGS, LIB, LIBS, PYTHON, Q and msg.

BENCH_OUT := $(BUILD)/bench

.PHONY: bench bench-tools bench-aggregate

bench-tools: $(BENCH_OUT)/wload $(BENCH_OUT)/floor $(BENCH_OUT)/serialize_bench

# Scenario selection and run count come from the environment; see bench/run.py.
bench: all bench-tools
	$(PYTHON) bench/run.py --tools $(BENCH_OUT)

$(BENCH_OUT):
	$(Q)mkdir -p $@

# Static, so that the workload process opens no shared libraries: every openat it makes
# is one the benchmark asked for.
$(BENCH_OUT)/wload: bench/wload.c bench/payload.h | $(BENCH_OUT)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -static -pthread -o $@ bench/wload.c

$(BENCH_OUT)/floor.bpf.o: bench/floor.bpf.c bench/floor.h vendor/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c bench/floor.bpf.c -o $@

$(BENCH_OUT)/floor.skel.h: $(BENCH_OUT)/floor.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_OUT)/floor: bench/floor.c bench/floor.h $(BENCH_OUT)/floor.skel.h
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_OUT) -o $@ bench/floor.c -lbpf $(LIBS)

$(BENCH_OUT)/serialize_bench: bench/serialize_bench.c c/bootstrap.h include/bootstrap_protocol.h $(LIB) \
		| $(BENCH_OUT)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -Ic -I$(BUILD)/gen -o $@ bench/serialize_bench.c $(LIB) $(LIBS)

# The openat storm counted in the kernel, against the floor, the event sent and bpftrace
# (bench/aggregate.py); its tracer is built from bench/aggregate.toml on the side.
BENCH_AGG := $(BENCH_OUT)/aggregate
bench-aggregate: all bench-tools
	$(Q)$(MAKE) -s BUILD=$(BENCH_AGG) EVENTS=bench/aggregate.toml
	$(PYTHON) bench/aggregate.py --tools $(BENCH_OUT) --agg-example $(BENCH_AGG)/example
