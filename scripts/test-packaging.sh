#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the packaging (KTAP): build the .debs (make deb), lintian
# them, build and install from the release tarball as a user would
# (make, make install), install tcpterm-dkms on this machine for the
# installed Debian 6.1 kernel and check what DKMS built, check DKMS skips
# kernels outside 6.1 to 7.2, boot the 6.1 guest with the module DKMS
# built and run a smoke subset of the selftests, and purge: nothing may
# be left behind.
#
# The target kernel is the installed Debian one (scripts/kernel.sh fetch
# 6.1), not uname -r.  Runs as root; the machine is left as it was
# found: the packages are purged at the end (and at the start, if an
# interrupted run left them, as a marker file says), and the DKMS signing
# key is removed again if this run made it.  A tcpterm-dkms not installed
# by this test is left alone: the install cases then skip.
#
# Environment: PACKAGING_OUT (logs and packages, default
# build/packaging), PACKAGING_SMOKE (the guest's ONLY=, default
# tcpterm_sockopt:hd.ipv4.clean), VM_ACCEL and ACCEL_CACHE (scripts/vm.sh),
# TESTS (the cases to run).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top" || exit 1
out=${PACKAGING_OUT:-$top/build/packaging}
smoke=${PACKAGING_SMOKE:-tcpterm_sockopt:hd.ipv4.clean}
cache=${TCPTERM_CACHE:-/var/cache/tcpterm}
marker=$cache/packaging-test.installed
pkgs=(tcpterm-dkms tcpterm-dev)
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)

rm -rf "$out"
mkdir -p "$out" "$cache"
tmp=$out/tmp
mkdir -p "$tmp"

n=0
fails=0
result() { # rc name
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	elif [ "$1" -eq 4 ]; then
		echo "ok $n $2 # SKIP $(cat "$tmp/skip" 2>/dev/null)"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}
# Each case runs in a subshell with fd 3 on the KTAP stream: fail ends
# the case, skip skips it.  State between cases is kept in files.
fail() { echo "# $*" >&3; exit 1; }
skip() { echo "$*" >"$tmp/skip"; exit 4; }
note() { echo "# $*" >&3; }
# A case needing an earlier one that did not pass.
needs() { [ -e "$tmp/done.$1" ] || skip "needs $1"; }
done_() { : >"$tmp/done.$1"; }

installed() { # package: installed (or half-installed) here?
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -qv 'not-installed$'
}

purge() {
	apt-get purge "${apt_opts[@]}" "${pkgs[@]}" >>"$out/purge.log" 2>&1 ||
		dpkg --purge "${pkgs[@]}" >>"$out/purge.log" 2>&1
}

# --- what the machine looked like --------------------------------------

# An interrupted run of this test left its packages: purge them first.
if [ -f "$marker" ]; then
	purge
	rm -f "$marker"
fi
eval "$(scripts/kernel.sh fetch 6.1 2>/dev/null | grep -E '^(KVER|KDIR|VMLINUZ)=')"
KVER=${KVER:-} KDIR=${KDIR:-}
V=$(scripts/version.sh 2>/dev/null)
# The machine's own DKMS state, to leave it so.
mok_before=$(ls /var/lib/dkms/mok.key /var/lib/dkms/mok.pub 2>/dev/null)
[ -d "/lib/modules/$KVER/updates" ] && : >"$tmp/updates_existed"
md5sum /lib/modules/"$KVER"/modules.* >"$tmp/modules.before" 2>/dev/null

cleanup() {
	if [ -f "$marker" ]; then
		purge
		rm -f "$marker"
	fi
	# The signing key, if DKMS made it during this run.
	if [ -z "$mok_before" ]; then
		rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	fi
	[ -e "$tmp/updates_existed" ] || rmdir "/lib/modules/$KVER/updates/dkms" \
		"/lib/modules/$KVER/updates" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

deb() { ls "$out"/deb/"$1"_*_all.deb 2>/dev/null | head -n1; }

# --- cases ---------------------------------------------------------------

deb_build() {
	[ -n "$V" ] || fail "scripts/version.sh gave no version"
	DEB_DIR=$out/deb DIST_DIR=$out/dist make -s deb >"$out/make-deb.log" 2>&1 ||
		fail "make deb failed: $(tail -n 15 "$out/make-deb.log")"
	local f
	for f in "tcpterm-dkms_${V}_all.deb" "tcpterm-dev_${V}_all.deb" \
		"tcpterm_${V}.dsc" "tcpterm_${V}.tar.xz"; do
		[ -f "$out/deb/$f" ] || fail "no $f in $out/deb: $(ls "$out/deb")"
	done
	ls "$out"/deb/*.changes >/dev/null 2>&1 || fail "no .changes"
	done_ deb_build
}

# The version of scripts/version.sh everywhere: the packages, dkms.conf,
# the VERSION file the module's build reads, debian/changelog.
one_version() {
	needs deb_build
	local x=$tmp/x p got
	rm -rf "$x"
	mkdir -p "$x"
	dpkg-deb -x "$(deb tcpterm-dkms)" "$x"
	for p in tcpterm-dkms tcpterm-dev; do
		got=$(dpkg-deb -f "$(deb $p)" Version)
		[ "$got" = "$V" ] || fail "$p is version $got, scripts/version.sh says $V"
	done
	[ -d "$x/usr/src/tcpterm-$V" ] || fail "no /usr/src/tcpterm-$V in tcpterm-dkms"
	got=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$x/usr/src/tcpterm-$V/dkms.conf")
	[ "$got" = "$V" ] || fail "dkms.conf says PACKAGE_VERSION $got"
	got=$(cat "$x/usr/src/tcpterm-$V/VERSION")
	[ "$got" = "$V" ] || fail "VERSION says $got"
	got=$(zcat "$x/usr/share/doc/tcpterm-dkms/changelog.gz" | sed -n '1s/^tcpterm (\([^)]*\)).*/\1/p')
	[ "$got" = "$V" ] || fail "debian/changelog's top entry is $got"
	note "version $V"
}

lintian_clean() {
	needs deb_build
	command -v lintian >/dev/null || fail "lintian missing: run scripts/deps.sh"
	lintian -I --pedantic --show-overrides "$out"/deb/*.changes >"$out/lintian.txt" 2>&1
	grep -v 'running with root privileges' "$out/lintian.txt" | sed 's/^/# /' >&3
	! grep -E '^[EW]: ' "$out/lintian.txt" >/dev/null || fail "lintian: errors or warnings"
}

# BUILD_EXCLUSIVE_KERNEL as shipped: 6.1 to 7.2, Debian's names included.
dkms_conf_kernel_range() {
	needs deb_build
	local conf=$tmp/x/usr/src/tcpterm-$V/dkms.conf k
	[ -f "$conf" ] || { dpkg-deb -x "$(deb tcpterm-dkms)" "$tmp/x" && [ -f "$conf" ]; } ||
		fail "no dkms.conf in tcpterm-dkms"
	# shellcheck disable=SC1090
	(
		set +u
		. "$conf"
		[ "$AUTOINSTALL" = yes ] || fail "AUTOINSTALL=$AUTOINSTALL"
		for k in 6.1.0-57-amd64 6.1.192 6.10.1 6.12.95+deb12-amd64 6.19.0-1-amd64 \
			7.0.0-1-amd64 7.2.13+deb14-amd64 "$KVER"; do
			[[ $k =~ $BUILD_EXCLUSIVE_KERNEL ]] || fail "$k excluded"
		done
		for k in 5.10.0-fake 6.0.0-1-amd64 6.0.19 7.3.0-fake 7.20.1 8.0.0 16.1.0; do
			[[ $k =~ $BUILD_EXCLUSIVE_KERNEL ]] && fail "$k not excluded"
		done
		true
	) || exit 1
}

# A user's build of the release tarball: plain make, no W=1 and no
# -Werror, so a warning (one a newer compiler might add, planted here)
# does not stop it; then make install and make uninstall into DESTDIR.
release_tarball_builds_despite_warning() {
	needs deb_build
	local src=$tmp/rel log=$out/release-build.log
	[ -n "$KDIR" ] || fail "no Debian 6.1 headers: run scripts/deps.sh"
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xJf "$out/dist/tcpterm-$V.tar.xz" ||
		fail "cannot unpack the dist tarball"
	[ ! -e "$src/.git" ] || fail ".git in the tarball"
	printf '\nstatic int tcpterm_planted_warning(void)\n{\n\treturn 0;\n}\n' >>"$src/module/main.c"
	make -C "$src" KDIR="$KDIR" V=1 >"$log" 2>&1 ||
		fail "make failed: $(grep -E '(error|warning):' "$log" | head -n 5)"
	grep -q "tcpterm_planted_warning.*Wunused-function" "$log" ||
		fail "the planted warning was not reported: $(tail -n 5 "$log")"
	# The compiler's command lines (V=1): no -Werror, no W=1 warnings.
	grep -q 'gcc.* -c .*main\.c' "$log" || fail "no compiler command line in the log"
	grep -qE -- '-Werror( |$)' "$log" && fail "-Werror in the build: $(grep -m1 -oE -- '-Werror( |$)' "$log")"
	grep -q -- '-DKBUILD_EXTRA_WARN' "$log" && fail "the build has W= warnings"
	[ -f "$src/module/tcpterm.ko" ] || fail "no tcpterm.ko"
	done_ release_build
}

make_install_uninstall_destdir() {
	needs release_build
	local src=$tmp/rel d=$tmp/destdir f got log=$out/make-install.log
	rm -rf "$d"
	make -C "$src" KDIR="$KDIR" DESTDIR="$d" install >"$log" 2>&1 ||
		fail "make install failed: $(tail -n 5 "$log")"
	for f in "lib/modules/$KVER/updates/tcpterm.ko" usr/include/linux/tcpterm.h \
		usr/share/man/man7/tcpterm.7; do
		[ -f "$d/$f" ] || fail "make install did not install /$f"
	done
	cmp -s "$d/usr/include/linux/tcpterm.h" uapi/linux/tcpterm.h || fail "header differs"
	[ ! -e "$d/lib/modules/$KVER/modules.dep" ] || fail "depmod ran in DESTDIR"
	got=$(modinfo -F vermagic "$d/lib/modules/$KVER/updates/tcpterm.ko")
	[ "${got%% *}" = "$KVER" ] || fail "vermagic $got, not $KVER"
	make -C "$src" KDIR="$KDIR" DESTDIR="$d" uninstall >>"$log" 2>&1 ||
		fail "make uninstall failed: $(tail -n 5 "$log")"
	f=$(find "$d" -type f)
	[ -z "$f" ] || fail "left by make uninstall: $f"
	rm -rf "$d"
	make -C "$src" DESTDIR="$d" headers_install >>"$log" 2>&1 || fail "make headers_install failed"
	f=$(cd "$d" && find . -type f)
	[ "$f" = ./usr/include/linux/tcpterm.h ] || fail "headers_install installed: $f"
}

dkms_install() {
	needs deb_build
	local p
	[ -n "$KVER" ] || fail "no Debian 6.1 kernel installed: run scripts/deps.sh"
	[ -d "/usr/src/linux-headers-$KVER" ] || fail "no headers for $KVER: run scripts/deps.sh"
	for p in "${pkgs[@]}"; do
		installed "$p" && skip "$p is installed on this machine (not by this test): left alone"
	done
	[ -e /var/lib/dkms/tcpterm ] && skip "tcpterm is in DKMS on this machine (not by this test): left alone"
	printf '%s\n' "${pkgs[@]}" >"$marker"
	apt-get install "${apt_opts[@]}" "$(deb tcpterm-dkms)" "$(deb tcpterm-dev)" \
		>"$out/install.log" 2>&1 ||
		fail "apt-get install failed: $(tail -n 20 "$out/install.log")"
	grep -E '^(Building (for|initial)|Skipped|Done\.|Error|It is likely|Module build)' "$out/install.log" | sed 's/^/# postinst: /' >&3
	done_ dkms_install
}

ko=/lib/modules/$KVER/updates/dkms/tcpterm.ko

# The postinst had DKMS build and install the module for the Debian
# kernel, though uname -r names another.
dkms_built_for_target_kernel() {
	needs dkms_install
	local st got
	st=$(dkms status -m tcpterm -v "$V" -k "$KVER" 2>&1)
	note "dkms status: $st"
	echo "$st" | grep -q ": installed" || fail "not installed for $KVER"
	cp /var/lib/dkms/tcpterm/"$V"/"$KVER"/*/log/make.log "$out/dkms-make.log" 2>/dev/null
	[ -f "$ko" ] || fail "no $ko"
	got=$(modinfo -F vermagic "$ko")
	[ "${got%% *}" = "$KVER" ] || fail "vermagic $got, not $KVER"
	got=$(modinfo -k "$KVER" -n tcpterm 2>&1)
	[ "$got" = "$ko" ] || fail "modprobe would load $got (depmod not run?)"
	grep -qE 'warning:|error:' "$out/dkms-make.log" &&
		note "the DKMS build warned: $(grep -m3 -E 'warning:|error:' "$out/dkms-make.log")"
	done_ dkms_built
}

dkms_module_version() {
	needs dkms_built
	local got
	got=$(modinfo -F version "$ko")
	[ "$got" = "$V" ] ||
		fail "modinfo version \"$got\", not $V (module/main.c: MODULE_VERSION(TCPTERM_VERSION))"
}

dev_header_installed() {
	needs dkms_install
	[ -f /usr/include/linux/tcpterm.h ] || fail "no /usr/include/linux/tcpterm.h"
	cmp -s /usr/include/linux/tcpterm.h uapi/linux/tcpterm.h || fail "header differs from uapi/"
	[ -f /usr/share/man/man7/tcpterm.7.gz ] || fail "no tcpterm(7)"
	printf '#include <sys/socket.h>\n#include <linux/tcpterm.h>\nint main(void) { return SOL_TCPTERM == TCPTERM_POLICY; }\n' >"$tmp/app.c"
	gcc -Wall -Werror -o "$tmp/app" "$tmp/app.c" >"$tmp/app.log" 2>&1 ||
		fail "an application does not build: $(cat "$tmp/app.log")"
}

# Kernels outside 6.1 to 7.2: DKMS says the BUILD_EXCLUSIVE directive
# excludes them, with status 77 (what the postinst and the kernel hooks
# take as "skipped"), and records nothing.
dkms_excludes_unsupported() {
	needs dkms_install
	local k rc
	for k in 5.10.0-fake 7.3.0-fake; do
		mkdir -p "$tmp/headers-$k/include"
		dkms build -m tcpterm -v "$V" -k "$k" --kernelsourcedir "$tmp/headers-$k" \
			>"$tmp/excl.out" 2>"$tmp/excl.err"
		rc=$?
		note "$k: $(head -n1 "$tmp/excl.err")"
		[ $rc -eq 77 ] || fail "dkms build -k $k: status $rc, not 77: $(cat "$tmp/excl.err")"
		grep -q 'BUILD_EXCLUSIVE directive which does not match this kernel' "$tmp/excl.err" ||
			fail "no clear message for $k: $(cat "$tmp/excl.err")"
		dkms status -m tcpterm 2>&1 | grep -qF "$k" && fail "DKMS recorded $k: $(dkms status -m tcpterm 2>&1)"
		[ ! -e "/var/lib/dkms/tcpterm/$V/$k" ] || fail "/var/lib/dkms/tcpterm/$V/$k left"
	done
}

# The guest, booted with the module DKMS built (not the tree's).
vm_smoke_with_dkms_module() {
	needs dkms_built
	local run
	[ -x "selftests/${smoke%%:*}" ] || [ -f "selftests/${smoke%%:*}" ] ||
		make -s selftests >"$tmp/selftests.log" 2>&1 || fail "make selftests failed"
	rm -rf "$out/vm"
	run=$(KERNEL=6.1 KO="$ko" ONLY="$smoke" OUT="$out/vm" scripts/vm.sh test 2>"$tmp/vm.err" | tail -n1)
	[ -f "$run/result.log" ] || fail "vm.sh failed: $(tail -n 3 "$tmp/vm.err")"
	sed 's/^/# guest: /' "$run/result.log" >&3
	grep -q "^ok 1 selftests: ${smoke%%:*}" "$run/result.log" || fail "${smoke%%:*} did not pass"
	# A selection that matches no case skips: that proves nothing.
	grep -qE '^  ok [0-9]+ [^#]*$' "$run/result.log" ||
		fail "no case of $smoke ran and passed"
	grep -q '^ok 2 selftests: kernel_log' "$run/result.log" || fail "kernel log check failed"
	grep -q 'not ok' "$run/result.log" && fail "a case failed"
	grep -q '^TCPTERM-VM-DONE rc=0' "$run/result.log" || fail "the guest did not finish"
	if grep -E 'BUG:|WARNING:|Oops|general protection|Kernel panic|RCU stall' "$run/console.log" >"$tmp/splat"; then
		fail "kernel splat: $(head -n 5 "$tmp/splat")"
	fi
	note "console: $run/console.log"
}

# Purge: every file of the packages gone, DKMS knows nothing of tcpterm,
# the module index is as before.
purge_leaves_nothing() {
	needs dkms_install
	local f left=
	dpkg-query -L "${pkgs[@]}" >"$tmp/files" 2>/dev/null
	purge
	rm -f "$marker"
	for p in "${pkgs[@]}"; do
		installed "$p" && fail "$p still installed: $(tail -n 10 "$out/purge.log")"
	done
	while read -r f; do
		[ -e "$f" ] && [ ! -d "$f" ] && left="$left $f"
	done <"$tmp/files"
	[ -z "$left" ] || fail "files left:$left"
	[ -z "$(dkms status -m tcpterm 2>&1)" ] || fail "dkms status: $(dkms status -m tcpterm 2>&1)"
	[ ! -e /var/lib/dkms/tcpterm ] || fail "/var/lib/dkms/tcpterm left"
	[ ! -e "/usr/src/tcpterm-$V" ] || fail "/usr/src/tcpterm-$V left"
	[ ! -e "$ko" ] || fail "$ko left"
	modinfo -k "$KVER" tcpterm >/dev/null 2>&1 && fail "modinfo still finds tcpterm"
	md5sum /lib/modules/"$KVER"/modules.* 2>/dev/null | cmp -s - "$tmp/modules.before" ||
		fail "/lib/modules/$KVER/modules.* differ from before the install"
	true
}

all="deb_build one_version lintian_clean dkms_conf_kernel_range
	release_tarball_builds_despite_warning make_install_uninstall_destdir
	dkms_install dkms_built_for_target_kernel dkms_module_version
	dev_header_installed dkms_excludes_unsupported vm_smoke_with_dkms_module
	purge_leaves_nothing"
tests=${TESTS:-$all}
echo "KTAP version 1"
echo "1..$(echo $tests | wc -w)"
for t in $tests; do
	echo "# RUN $t"
	rm -f "$tmp/skip"
	(exec 3>&1; $t)
	result $? "$t"
done
[ $fails -eq 0 ]
