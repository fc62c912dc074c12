# SPDX-License-Identifier: GPL-2.0
#
# make              build module/tcpterm.ko against the target kernel
# make check        install what is missing, build, boot a VM, run selftests
# make check-full   the same, with every selftest on the debug kernel too
# make demo         boot a VM and show what tcpterm does
# make bench        connection churn in a VM, module unloaded vs loaded
# make style        checkpatch.pl --strict over module/ and uapi/
# make sparse       build with sparse (C=1)
#
# KDIR defaults to the running kernel's build tree and falls back to the
# newest installed Debian linux-headers-*-amd64 tree.

KVER_RUNNING := $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER_RUNNING)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
PWD := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: all module clean check check-full demo bench style sparse selftests deps

all: module

module:
	@test -n "$(KDIR)" || { echo "no kernel build tree: run scripts/deps.sh or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 modules

sparse:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 C=2 modules

selftests:
	$(MAKE) -C selftests

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(MAKE) -C selftests clean

deps:
	scripts/deps.sh

check:
	scripts/run-tests.sh

check-full:
	DEBUG_SUITE=full scripts/run-tests.sh

demo:
	scripts/demo.sh

style:
	scripts/style.sh

bench: module selftests
	@run=$$(scripts/vm.sh bench | tail -n1) && cat $$run/result.log
