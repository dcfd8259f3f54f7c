# Makefile: the one entry point. `make` builds ./libbootstrap.a and ./example from
# events.toml; `make examples` (the Rust and C++ embeddings), `make test`, `make bench`,
# `make install`, `make clean`, `make vmlinux`.
# Intermediates go under build/. V=1 shows the commands. `make BUILD=DIR` builds
# everything under DIR, the archive and ./example too, leaving the tree's own untouched
# (a second schema built next to the first: `make BUILD=/tmp/b EVENTS=/tmp/b/events.toml`).

EVENTS ?= events.toml
BUILD := build
GEN := $(BUILD)/gen
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# typegen needs Python 3.11 (tomllib) and Jinja2; the first python3 on PATH may lack
# Jinja2 (Debian installs python3-jinja2 for /usr/bin/python3), so take the first that works.
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import tomllib, jinja2' 2>/dev/null && { command -v $$p; break; }; done)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# SANITIZE: sanitizer flags for the library and its C tests (test-sanitize sets them, with
# a BUILD of its own); the traced fixtures are built without them.
SANITIZE ?=
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Ic -I$(GEN) -I$(BUILD) $(SANITIZE)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	-Wno-unused-function -Wno-unused-parameter \
	-Ivendor -I$(GEN) -Iinclude -Ibpf
# libbpf is the system's (libbpf-dev), linked beside the archive, never inside it: an
# embedder with a libbpf of its own then has one libbpf in the process, not two.
LIBS := -lbpf -ldw -lelf -lz -llzma
# ./example top draws with ncurses (libncurses-dev); the library does not need it.
EXAMPLE_LIBS := $(LIBS) -lncurses
OUT := $(if $(filter build,$(BUILD)),,$(BUILD)/)
LIB := $(OUT)libbootstrap.a
EXAMPLE := $(OUT)example

GEN_FILES := $(GEN)/events.gen.h $(GEN)/fill.gen.bpf.h $(GEN)/json.gen.c $(GEN)/attach.gen.c $(GEN)/aggregate.gen.bpf.h $(GEN)/aggregate.gen.c $(GEN)/types.gen.rs $(GEN)/events.schema.json
TYPEGEN_SRCS := $(wildcard typegen/*.py typegen/templates/*.j2)
LIB_SRCS := $(wildcard c/*.c)
LIB_OBJS := $(patsubst c/%.c,$(BUILD)/c/%.o,$(LIB_SRCS)) $(BUILD)/c/json.gen.o $(BUILD)/c/attach.gen.o $(BUILD)/c/aggregate.gen.o
HEADERS := $(wildcard c/*.h include/*.h) $(GEN)/events.gen.h
# The kinds of probe (typegen/kinds.py): the public enum, and the table of their operations.
GEN_FILES += $(GEN)/kinds.gen.h $(GEN)/kinds.gen.c $(GEN)/kind_ops.gen.c
LIB_OBJS += $(BUILD)/c/kinds.gen.o $(BUILD)/c/kind_ops.gen.o
HEADERS += $(GEN)/kinds.gen.h

.PHONY: all examples test test-typegen test-unit test-sanitize test-install test-e2e test-cli test-import test-aggregate test-rust test-rust-crate test-rust-docs test-embed-cpp bench install clean vmlinux FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: $(LIB) $(EXAMPLE)

# --- generated code ---------------------------------------------------------------
# typegen checks the args[N] of syscall tracepoints against the format files of this
# tracefs: the build host's; `make TRACEFS=DIR` names another, `make TRACEFS=` none.
TRACEFS ?= $(patsubst %/events,%,$(firstword $(wildcard /sys/kernel/tracing/events /sys/kernel/debug/tracing/events)))
# typegen leaves unchanged outputs untouched, so only what really changed rebuilds.
$(GEN)/.stamp: $(EVENTS) $(TYPEGEN_SRCS) include/bootstrap_protocol.h c/bootstrap.h bpf/packet.bpf.h vendor/vmlinux.h
	$(call msg,TYPEGEN,$(EVENTS))
	$(Q)test -n "$(PYTHON)" || { echo "error: no python3 with tomllib and jinja2 found; install python3-jinja2 (see README)" >&2; exit 1; }
	$(Q)$(PYTHON) typegen/typegen.py $(EVENTS) $(GEN) --tracefs '$(TRACEFS)'
	$(Q)touch $@

$(GEN_FILES): $(GEN)/.stamp ;

# --- kernel side --------------------------------------------------------------------
$(BUILD)/bootstrap.bpf.o: bpf/bootstrap.bpf.c $(wildcard bpf/*.h) include/bootstrap_protocol.h $(GEN)/events.gen.h $(GEN)/fill.gen.bpf.h $(GEN)/aggregate.gen.bpf.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/bootstrap.skel.h: $(BUILD)/bootstrap.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bootstrap_bpf > $@

# --- library ------------------------------------------------------------------------
$(BUILD)/c/%.o: c/%.c $(HEADERS) $(BUILD)/bootstrap.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/c/%.gen.o: $(GEN)/%.gen.c $(HEADERS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The library's own objects only: an embedder links libbootstrap.a $(LIBS) (bootstrap.pc
# says so), with its own libbpf if it has one.
$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(EXAMPLE): $(wildcard cli/*.c cli/*.h) $(LIB) $(HEADERS)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.c,$^) $(LIB) $(EXAMPLE_LIBS) -o $@

# --- embedding examples: Rust (rs/, the crate) and C++ ------------------------------------
# Debian's cargo (Rust 1.63) when it is installed, else the first on PATH; with Debian's
# cargo go Debian's rustc and rustdoc, whatever comes first on PATH (a rustup one, say).
# The crate links the archive built here and includes the types generated here.
CARGO ?= $(if $(wildcard /usr/bin/cargo),/usr/bin/cargo,cargo)
CARGO_RUN = env -u RUSTFLAGS $(if $(filter /usr/bin/cargo,$(CARGO)),RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc) \
	BOOTSTRAP_LIB=$(abspath $(LIB)) BOOTSTRAP_GEN_DIR=$(abspath $(GEN)) CARGO_TARGET_DIR=$(abspath $(BUILD))/rs \
	$(CARGO)
CARGO_FLAGS := --offline --locked --manifest-path rs/Cargo.toml $(if $(filter 1,$(V)),,--quiet)
EXAMPLES_OUT := $(BUILD)/examples
CXXFLAGS_EMBED := -std=c++17 -O2 -Wall -Wextra -Werror -Iinclude -Ic -I$(GEN)

examples: $(EXAMPLES_OUT)/example-rs $(EXAMPLES_OUT)/embed-cpp

# cargo knows what changed in the crate: it is asked every time, and is quick when
# nothing did.
$(EXAMPLES_OUT)/example-rs: $(LIB) $(GEN)/types.gen.rs FORCE
	$(call msg,CARGO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CARGO_RUN) build $(CARGO_FLAGS) --example example-rs
	$(Q)cp $(BUILD)/rs/debug/examples/example-rs $@

# Against nothing but the public header and the archive: what a C++ embedder does.
$(EXAMPLES_OUT)/embed-cpp: examples/embed.cpp $(LIB) $(HEADERS)
	$(call msg,CXXLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS_EMBED) $< $(LIB) $(LIBS) -o $@

include tests/tests.mk
include bench/bench.mk

# --- install --------------------------------------------------------------------------
install: $(LIB)
	$(Q)install -d $(DESTDIR)$(PREFIX)/include/bootstrap $(DESTDIR)$(PREFIX)/lib/pkgconfig
	$(Q)install -m 644 c/bootstrap.h include/bootstrap_protocol.h $(GEN)/events.gen.h $(GEN)/kinds.gen.h $(DESTDIR)$(PREFIX)/include/bootstrap/
	$(Q)install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e "s|@VERSION@|$$(sed -n 's/^#define BOOTSTRAP_VERSION \"\(.*\)\"/\1/p' c/bootstrap.h)|" \
		bootstrap.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bootstrap.pc

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vendor/vmlinux.h

clean:
	rm -rf $(BUILD) $(LIB) $(EXAMPLE)
