# tests/tests.mk: `make test` and its parts (included by the top Makefile).
# Unit tests need no privilege; end-to-end tests load the real BPF programs and need
# root: with REQUIRE_BPF=1 (CI) a missing privilege fails instead of skipping. Then the
# BPF tests run again on a second kernel, in a VM (tests/vm/vm.mk).

TEST_BIN := $(BUILD)/tests
FIXTURES := $(patsubst tests/fixtures/%.c,$(TEST_BIN)/fixtures/%,$(wildcard tests/fixtures/*.c))
# Criterion forks each test; BPF tests run one at a time so they do not see each other.
CRITERION_FLAGS ?= --jobs 1
# Programs the tests trace or symbolize are built without sanitizers (see test-sanitize).
FIXTURE_CFLAGS = $(filter-out $(SANITIZE),$(CFLAGS))

# The VM run comes last, once the host suites have passed (it would share their 2 CPUs).
test: test-docs test-typegen test-bpf-headers test-unit test-sanitize test-install test-e2e test-cli test-import test-aggregate test-rust test-embed-cpp
	$(Q)$(MAKE) --no-print-directory vmtest

# Every relative link and #anchor of README.md, docs/ and bench/ resolves; bench/RESULTS.md
# keeps the marker below which make bench writes.
.PHONY: test-docs
test-docs:
	$(call msg,PYTEST,tests/docs)
	$(Q)$(PYTHON) -m pytest -q tests/docs

test-typegen: $(GEN)/.stamp
	$(call msg,PYTEST,tests/typegen)
	$(Q)$(PYTHON) -m pytest -q tests/typegen

# Every BPF header, hand-written or generated, compiles on its own with the flags of
# bootstrap.bpf.c after only what each BPF source starts with (vmlinux.h, then
# bpf_helpers.h), and twice (its include guard): one that leans on a header included
# before it fails here.
BPF_HEADERS = $(wildcard bpf/*.h) $(GEN)/aggregate.gen.bpf.h $(GEN)/fill.gen.bpf.h
.PHONY: test-bpf-headers
test-bpf-headers: $(GEN)/.stamp
	$(call msg,CLANG,bpf headers alone)
	$(Q)n=0; for h in $(notdir $(BPF_HEADERS)); do \
		printf '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include "%s"\n#include "%s"\n' $$h $$h | \
		$(CLANG) $(BPF_CFLAGS) -fsyntax-only -x c - || { echo "bpf headers: $$h does not compile alone" >&2; \
		echo "bpf headers: $$n passed, 1 failed"; exit 1; }; n=$$((n + 1)); \
	done; echo "bpf headers: $$n passed, 0 failed"

$(TEST_BIN)/unit: $(wildcard tests/unit/*.c tests/*.h) $(LIB) $(HEADERS)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests $(filter %.c,$^) $(LIB) $(LIBS) -lcriterion -o $@

# The symbolizer's fixture (tests/unit/test_symbolize.c): one program built as a PIE,
# a non-PIE executable, a stripped PIE with its symbols in a debuginfo file under a
# debug directory of its own (found by build-id; its debuglink, which names a copy
# beside it, must be ignored), and a stripped PIE without build-id whose debuglink names
# a FIFO the test makes, a stripped PIE with MiniDebugInfo, and one whose MiniDebugInfo
# is an xz bomb (1 GiB of zeros), all calling into a shared library found through $ORIGIN.
# Defined before test-unit: make expands a rule's prerequisites where it reads the rule.
SYMFIX_DIR := $(TEST_BIN)/symbolize
SYMFIX := $(SYMFIX_DIR)/symfix-pie $(SYMFIX_DIR)/symfix-nopie $(SYMFIX_DIR)/symfix-stripped \
	  $(SYMFIX_DIR)/symfix-fifolink $(SYMFIX_DIR)/symfix-minidebug $(SYMFIX_DIR)/symfix-xzbomb
test-unit: $(TEST_BIN)/unit $(SYMFIX)
	$(Q)$(TEST_BIN)/unit $(CRITERION_FLAGS)

SYMFIX_LINK = -L$(SYMFIX_DIR) -lsymfix -Wl,-rpath,'$$ORIGIN'

$(SYMFIX_DIR)/libsymfix.so: tests/fixtures/symbolize/libsymfix.c
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fPIC -shared $< -o $@

$(SYMFIX_DIR)/symfix-pie: tests/fixtures/symbolize/symfix.c $(SYMFIX_DIR)/libsymfix.so
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fPIE -pie $< $(SYMFIX_LINK) -o $@

$(SYMFIX_DIR)/symfix-nopie: tests/fixtures/symbolize/symfix.c $(SYMFIX_DIR)/libsymfix.so
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fno-pie -no-pie $< $(SYMFIX_LINK) -o $@

$(SYMFIX_DIR)/symfix-stripped: $(SYMFIX_DIR)/symfix-pie
	$(call msg,STRIP,$@)
	$(Q)objcopy --only-keep-debug $< $@.debug
	$(Q)objcopy --strip-all --add-gnu-debuglink=$@.debug $< $@
	$(Q)id=$$(readelf -n $@ | sed -n 's/.*Build ID: *//p'); \
	    test -n "$$id" && mkdir -p $(SYMFIX_DIR)/debug/.build-id/$$(echo $$id | cut -c1-2) && \
	    cp $@.debug $(SYMFIX_DIR)/debug/.build-id/$$(echo $$id | cut -c1-2)/$$(echo $$id | cut -c3-).debug

$(SYMFIX_DIR)/symfix-fifolink: tests/fixtures/symbolize/symfix.c $(SYMFIX_DIR)/libsymfix.so
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -fPIE -pie -Wl,--build-id=none $< $(SYMFIX_LINK) -o $@.full
	$(Q)rm -f $@.debug && touch $@.debug  # a failed unit test can leave its FIFO there
	$(Q)objcopy --strip-all --add-gnu-debuglink=$@.debug $@.full $@
	$(Q)rm -f $@.full $@.debug

# $(call minidebug,PROGRAM,OUT): OUT is PROGRAM stripped, with MiniDebugInfo made as
# Fedora's find-debuginfo makes it: the symbols of the functions .dynsym lacks, kept in
# an ELF file of debug sections alone, xz-compressed into the section .gnu_debugdata.
define minidebug
	$(call msg,MINIDBG,$(2))
	$(Q)nm -D --format=posix --defined-only $(1) | awk '{ print $$1 }' | sort > $(2).dynsyms
	$(Q)nm --format=posix --defined-only $(1) | awk '$$2 ~ /^[Tt]$$/ { print $$1 }' | sort > $(2).funcsyms
	$(Q)comm -13 $(2).dynsyms $(2).funcsyms > $(2).keep
	$(Q)objcopy --only-keep-debug $(1) $(2).mini
	$(Q)objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=$(2).keep $(2).mini
	$(Q)xz -f $(2).mini
	$(Q)objcopy --strip-all --add-section .gnu_debugdata=$(2).mini.xz $(1) $(2)
	$(Q)rm -f $(2).dynsyms $(2).funcsyms $(2).keep $(2).mini.xz
endef

$(SYMFIX_DIR)/symfix-minidebug: $(SYMFIX_DIR)/symfix-pie
	$(call minidebug,$<,$@)

$(SYMFIX_DIR)/symfix-xzbomb: $(SYMFIX_DIR)/symfix-stripped tests/fixtures/symbolize/xzbomb.py
	$(call msg,XZBOMB,$@)
	$(Q)$(PYTHON) tests/fixtures/symbolize/xzbomb.py $@.xz
	$(Q)objcopy --add-section .gnu_debugdata=$@.xz $< $@
	$(Q)rm -f $@.xz

# The unit, end-to-end and embedding tests again, library included, built with
# AddressSanitizer (leaks too) and UndefinedBehaviorSanitizer under $(BUILD)/sanitize.
# Any report fails the run: errors abort their test, and every report also goes to a
# file under $(SANITIZE_LOGS), because a leak is found when a test's process exits,
# after Criterion has taken its result. The paths some tests name are this tree's
# (build/tests/symbolize, build/tests/fixtures/burn): built first.
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
SANITIZE_LOGS := $(abspath $(BUILD))/sanitize/reports
test-sanitize: $(FIXTURES) $(SYMFIX)
	$(Q)rm -rf $(SANITIZE_LOGS) && mkdir -p $(SANITIZE_LOGS)
	$(Q)ASAN_OPTIONS=log_path=$(SANITIZE_LOGS)/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$(SANITIZE_LOGS)/ubsan \
		$(MAKE) --no-print-directory BUILD=$(BUILD)/sanitize SANITIZE="$(SANITIZE_FLAGS)" test-unit test-e2e; \
	rc=$$?; if [ -n "$$(ls -A $(SANITIZE_LOGS))" ]; then cat $(SANITIZE_LOGS)/* >&2; \
		echo "FAIL: sanitizer reports in $(SANITIZE_LOGS)" >&2; exit 1; fi; exit $$rc

test-install: $(LIB) $(BUILD)/bootstrap.bpf.o
	$(Q)tests/install_test.sh
	$(Q)tests/symbols_test.sh --bpf $(BUILD)/bootstrap.bpf.o $(LIB)

# The sampling tests walk burn's user stack by its frame pointers.
$(TEST_BIN)/fixtures/burn: CFLAGS += -fno-omit-frame-pointer -fno-optimize-sibling-calls
# The unwinding tests: a chain only the unwind tables can walk, and (a second build of the
# same source) a leaf without a frame under a caller built with frame pointers.
$(TEST_BIN)/fixtures/unwind_chain: CFLAGS += -fomit-frame-pointer
FIXTURES += $(TEST_BIN)/fixtures/unwind_leaf
$(TEST_BIN)/fixtures/unwind_leaf: tests/fixtures/unwind_chain.c
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -O1 -fno-omit-frame-pointer -momit-leaf-frame-pointer $< -o $@
# Its recursion stays a recursion (not a loop), one call per level.
$(TEST_BIN)/fixtures/probe_target: CFLAGS += -fno-optimize-sibling-calls

# burn with MiniDebugInfo, stripped: its functions are named from that alone (tests/cli).
$(TEST_BIN)/fixtures/burn-minidebug: $(TEST_BIN)/fixtures/burn
	$(call minidebug,$<,$@)

$(TEST_BIN)/fixtures/%: tests/fixtures/%.c
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -lpthread -o $@

$(TEST_BIN)/e2e: $(wildcard tests/e2e/*.c tests/e2e/*.h tests/*.h) $(LIB) $(HEADERS)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests $(filter %.c,$^) $(LIB) $(LIBS) -lcriterion -lpthread -o $@

# Links with nothing but the archive and its dependencies (libbpf, libdw): what an embedder does.
$(TEST_BIN)/embed: examples/embed.c $(LIB) $(HEADERS)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -Ic -I$(GEN) $(SANITIZE) $< $(LIB) -lbpf -ldw -lelf -lz -llzma -o $@

# An agent with libbpf of its own beside the archive: libbpf-dev's shared library, and its
# archive linked whole (every libbpf object in the program, as when an agent builds libbpf
# in), which would collide with any libbpf object inside libbootstrap.a.
AGENT_CFLAGS = -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -Ic -I$(GEN) $(SANITIZE)
$(TEST_BIN)/libbpf-agent-shared: tests/agent/libbpf_agent.c $(LIB) $(HEADERS)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(AGENT_CFLAGS) $< $(LIB) -lbpf -ldw -lelf -lz -llzma -o $@

$(TEST_BIN)/libbpf-agent-static: tests/agent/libbpf_agent.c $(LIB) $(HEADERS)
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(AGENT_CFLAGS) $< $(LIB) -Wl,--whole-archive -l:libbpf.a -Wl,--no-whole-archive -ldw -lelf -lz -llzma -o $@

test-e2e: $(TEST_BIN)/e2e $(TEST_BIN)/embed $(TEST_BIN)/libbpf-agent-shared $(TEST_BIN)/libbpf-agent-static $(FIXTURES)
	$(Q)tests/require_bpf.sh $(TEST_BIN)/e2e $(CRITERION_FLAGS)
	$(Q)tests/require_bpf.sh $(TEST_BIN)/embed
	$(Q)tests/require_bpf.sh $(TEST_BIN)/libbpf-agent-shared $(BUILD)/bootstrap.bpf.o
	$(Q)tests/require_bpf.sh $(TEST_BIN)/libbpf-agent-static $(BUILD)/bootstrap.bpf.o

test-cli: all $(FIXTURES) $(TEST_BIN)/fixtures/burn-minidebug
	$(call msg,PYTEST,tests/cli)
	$(Q)tests/require_bpf.sh $(PYTHON) -m pytest -q tests/cli

# Aggregations, xdp (in network namespaces of its own) and top: builds a tracer of its
# own schema on the side (tests/aggregate/events.toml) and uses ./example too.
test-aggregate: all $(FIXTURES)
	$(call msg,PYTEST,tests/aggregate)
	$(Q)tests/require_bpf.sh $(PYTHON) -m pytest -q tests/aggregate

# Builds its own copies of the tracer (BUILD under pytest's temporary directory): for
# imported tracepoints, and for uprobe tables on the probe_target fixture.
test-import: $(FIXTURES)
	$(call msg,PYTEST,tests/import)
	$(Q)tests/require_bpf.sh $(PYTHON) -m pytest -q tests/import

# The crate's tests against this build's archive and types: layouts against the C ones,
# the safe API (the tests that load BPF say SKIPPED without root, as above).
# CARGO_TEST_ARGS narrows them (--lib: those that hold for any schema).
CARGO_TEST_ARGS ?=
test-rust-crate: $(LIB) $(GEN)/types.gen.rs
	$(call msg,CARGO,test rs/ $(CARGO_TEST_ARGS))
	$(Q)$(CARGO_RUN) test $(CARGO_FLAGS) $(CARGO_TEST_ARGS)

# The crate as people get it: its documentation without a warning (every public item
# documented, every link resolved) and a package that builds on its own (the work tree
# as it is, changes included).
test-rust-docs: $(LIB) $(GEN)/types.gen.rs
	$(call msg,CARGO,doc package rs/)
	$(Q)RUSTDOCFLAGS=-Dwarnings $(CARGO_RUN) doc $(CARGO_FLAGS) --no-deps
	$(Q)$(CARGO_RUN) package $(CARGO_FLAGS) --allow-dirty

# Then the crate on a schema with every special case of the Rust generator, and
# example-rs against ./example on the same fixture.
test-rust: test-rust-crate test-rust-docs all examples $(FIXTURES)
	$(call msg,PYTEST,tests/rust)
	$(Q)$(PYTHON) -m pytest -q tests/rust/test_generated_rs.py
	$(Q)tests/require_bpf.sh $(PYTHON) -m pytest -q tests/rust/test_example_rs.py

test-embed-cpp: $(EXAMPLES_OUT)/embed-cpp
	$(Q)tests/require_bpf.sh $<
include tests/vm/vm.mk
