# SPDX-License-Identifier: GPL-2.0
#
# make              build module/tcpterm.ko against the target kernel, and
#                   the tcpterm tool (make tools: tools/tcpterm)
# make install      install the module into /lib/modules/<kernel>/updates
#                   (then depmod), the uapi header as
#                   /usr/include/linux/tcpterm.h, the man pages, tcpterm
#                   (SBINDIR) and its preload library (PKGLIBDIR)
# make uninstall    remove what make install installed
# make headers_install   the uapi header alone
# make dist         build/dist/tcpterm-<version>.tar.xz: a release tarball
#                   (VERSION file, dkms.conf with its version)
# make deb          build/deb/: the tcpterm-dkms, tcpterm-dev and
#                   tcpterm-tools packages
# make version      print the version (scripts/version.sh)
# make check        install what is missing, build, boot a VM, run selftests
# make check-full   the same, with every selftest on the debug kernel too
# make demo         boot a VM and show what tcpterm does
# make bench        what tcpterm costs (time, memory), in one VM boot; the
#                   table is printed and kept in build/bench/<stamp>.txt
# make style        checkpatch.pl --strict over module/ and uapi/
# make sparse       build with sparse (C=1)
#
# KDIR defaults to the running kernel's build tree and falls back to the
# newest installed Debian linux-headers-*-amd64 tree; KVER is the release
# of the kernel KDIR builds for.  DESTDIR stages an install (depmod is
# then left to whoever installs the staged files); PREFIX (/usr),
# INCLUDEDIR, MANDIR, BINDIR, SBINDIR and PKGLIBDIR place the rest.
#
# A plain build takes the kernel's warning flags as they are, so that a
# newer compiler's new warning never stops a user's build (or DKMS's);
# make check builds with W=1 and fails on any warning.

KVER_RUNNING := $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER_RUNNING)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
PWD := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ifeq ($(origin KVER),undefined)
KVER := $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
endif

PREFIX ?= /usr
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
PKGLIBDIR ?= $(PREFIX)/lib/tcpterm
MODULEDIR ?= /lib/modules/$(KVER)/updates
DEPMOD ?= depmod
MANPAGES := $(wildcard Documentation/man/*.[1-9])
# User-space programs for BINDIR: none.  tcpterm(8) is an administrator's
# command, so it goes to SBINDIR, as ip and ss do; "tcpterm run" finds
# its preload library in PKGLIBDIR (compiled in).
PROGRAMS :=
SBIN_PROGRAMS := tools/tcpterm/tcpterm
PKGLIBS := tools/tcpterm/libtcpterm-run.so

.PHONY: all module tools clean check check-full demo bench style sparse selftests deps \
	install uninstall headers_install dist deb version

all: module tools

module:
	@test -n "$(KDIR)" || { echo "no kernel build tree: run scripts/deps.sh or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) modules

sparse:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 C=2 modules

selftests:
	$(MAKE) -C selftests

tools:
	$(MAKE) -C tools/tcpterm PREFIX=$(PREFIX) PKGLIBDIR=$(PKGLIBDIR)

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(MAKE) -C selftests clean
	$(MAKE) -C tools/tcpterm clean

install: module tools headers_install
	@test -n "$(KVER)" || { echo "no kernel release in $(KDIR): set KVER" >&2; exit 1; }
	install -D -m 0644 module/tcpterm.ko $(DESTDIR)$(MODULEDIR)/tcpterm.ko
ifeq ($(DESTDIR),)
	$(DEPMOD) -a $(KVER)
else
	@echo "DESTDIR set: depmod not run (run depmod -a $(KVER) where the files land)"
endif
	$(foreach m,$(MANPAGES),install -D -m 0644 $(m) \
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)) &&) true
	$(foreach p,$(PROGRAMS),install -D -m 0755 $(p) $(DESTDIR)$(BINDIR)/$(notdir $(p)) &&) true
	$(foreach p,$(SBIN_PROGRAMS),install -D -m 0755 $(p) $(DESTDIR)$(SBINDIR)/$(notdir $(p)) &&) true
	$(foreach p,$(PKGLIBS),install -D -m 0644 $(p) $(DESTDIR)$(PKGLIBDIR)/$(notdir $(p)) &&) true

headers_install:
	install -D -m 0644 uapi/linux/tcpterm.h $(DESTDIR)$(INCLUDEDIR)/linux/tcpterm.h

uninstall:
	@test -n "$(KVER)" || { echo "no kernel release in $(KDIR): set KVER" >&2; exit 1; }
	rm -f $(DESTDIR)$(MODULEDIR)/tcpterm.ko
	rmdir $(DESTDIR)$(MODULEDIR) 2>/dev/null || true
ifeq ($(DESTDIR),)
	$(DEPMOD) -a $(KVER)
endif
	rm -f $(DESTDIR)$(INCLUDEDIR)/linux/tcpterm.h
	rm -f $(foreach m,$(MANPAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
		$(foreach p,$(PROGRAMS),$(DESTDIR)$(BINDIR)/$(notdir $(p))) \
		$(foreach p,$(SBIN_PROGRAMS),$(DESTDIR)$(SBINDIR)/$(notdir $(p))) \
		$(foreach p,$(PKGLIBS),$(DESTDIR)$(PKGLIBDIR)/$(notdir $(p)))
	rmdir $(DESTDIR)$(PKGLIBDIR) 2>/dev/null || true

version:
	@scripts/version.sh

dist:
	scripts/dist.sh

deb:
	scripts/deb.sh

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
	scripts/bench.sh
