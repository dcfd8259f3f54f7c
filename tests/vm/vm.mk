# tests/vm/vm.mk: `make vmtest` (included by tests/tests.mk; `make test` runs it after the
# host suites): the BPF-using tests on a second kernel. Each Debian kernel package of
# VM_KERNELS boots under qemu (TCG, no KVM needed, no root needed) with an initramfs that
# holds the tests; the results come back over the serial console (tests/vm/run.sh). The
# packages are downloaded and unpacked under build/vm/, never installed.

VM_DIR := $(BUILD)/vm
# Debian packages: a metapackage follows Debian's current ABI (linux-image-amd64 depends
# on linux-image-6.1.0-NN-amd64); an exact package name pins one.
VM_KERNELS ?= linux-image-amd64 linux-image-cloud-amd64 linux-image-rt-amd64
# What the guest runs, in this order: a test binary, or a folder of pytest tests (or one
# file of them, with its conftest.py in VM_FILES, to run a single suite there). A new
# tests/e2e/*.c is part of $(TEST_BIN)/e2e already; a new binary is one more word here.
VM_TESTS := $(TEST_BIN)/e2e $(TEST_BIN)/embed tests/cli
# What they need besides themselves, at the same paths relative to the tree (kinds.py:
# the constants the probe tests expect; it reads struct bs_pkt through cstructs.py).
VM_FILES := example events.toml $(FIXTURES) $(TEST_BIN)/fixtures/burn-minidebug $(wildcard tests/fixtures/*.py) \
	typegen/kinds.py typegen/cstructs.py \
	include/bootstrap_protocol.h bpf/packet.bpf.h

.PHONY: vmtest

# The lists of VM_TESTS and VM_FILES the image was made with, rewritten when they
# differ: an image made for `VM_TESTS=... make vmtest` is not reused by a run that wants
# the whole list, nor one made before a file joined VM_FILES (older than the image, it
# would not make it again by its date).
VM_LIST := $(VM_DIR)/vm-tests.list
ifneq ($(file <$(VM_LIST)),$(VM_TESTS) -- $(VM_FILES))
$(shell mkdir -p $(VM_DIR))
$(file >$(VM_LIST),$(VM_TESTS) -- $(VM_FILES))
endif

# The files behind each entry: a folder's Python files, or the binary itself.
$(VM_DIR)/initramfs.cpio: $(foreach t,$(VM_TESTS),$(if $(wildcard $(t)/.),$(wildcard $(t)/*.py),$(t))) \
		$(VM_FILES) $(VM_LIST) tests/vm/init tests/vm/initramfs.sh tests/vm/fetch.sh
	$(call msg,CPIO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)busybox=$$(tests/vm/fetch.sh $(VM_DIR) busybox-static ./bin/busybox)/bin/busybox && \
		tests/vm/initramfs.sh $@ $$busybox $(VM_TESTS) -- $(VM_FILES)

vmtest: $(VM_DIR)/initramfs.cpio
	$(Q)tests/vm/run.sh $(VM_DIR) $< $(VM_KERNELS)
