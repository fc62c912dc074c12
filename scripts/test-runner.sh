#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the test runner itself (KTAP, nested): the selftests' output
# on the kernel harness is counted case by case; the accelerator is
# chosen by a probe boot, not by /dev/kvm.  A stub qemu-system-x86_64 on
# PATH stands for KVM that aborts, KVM that hangs and KVM that works (the
# stub then runs the real qemu under TCG); a fake device file stands for
# /dev/kvm.  Two cases boot the real 6.1 guest with one selftest.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
real=$(command -v qemu-system-x86_64)
eval "$("$top/scripts/kernel.sh" fetch 6.1 | grep -E '^VMLINUZ=')"
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
: >"$tmp/kvm"

# stub MODE: abort | hang | works | real.  Every call is logged.
stub() {
	mkdir -p "$tmp/$1"
	cat >"$tmp/$1/qemu-system-x86_64" <<STUB
#!/bin/bash
echo "\$*" >>"$tmp/calls"
case " \$* " in
*" -enable-kvm "*)
	case $1 in
	abort)
		echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
		kill -ABRT \$\$ ;;
	hang) exec sleep 600 ;;
	works)
		args=()
		skip=0
		for a in "\$@"; do
			[ \$skip = 1 ] && { skip=0; continue; }
			case \$a in
			-enable-kvm) args+=(-accel tcg) ;;
			-cpu) skip=1 ;;
			*) args+=("\$a") ;;
			esac
		done
		exec "$real" "\${args[@]}" ;;
	esac ;;
esac
exec "$real" "\$@"
STUB
	chmod +x "$tmp/$1/qemu-system-x86_64"
	echo "$tmp/$1"
}

n=0
fails=0
result() { # rc name
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}
# Each case runs in a subshell with fd 3 on the KTAP stream: fail ends
# the case (or the command substitution it is called in) with status 1.
fail() { echo "# $*" >&3; exit 1; }

# probe STUBMODE [env...]: verdict on stdout, reason in $tmp/err.
probe() {
	local dir
	dir=$(stub "$1")
	shift
	: >"$tmp/calls"
	env -u VM_ACCEL -u ACCEL_CACHE PATH="$dir:$PATH" ACCEL_KVM_DEV="$tmp/kvm" "$@" \
		"$top/scripts/accel.sh" "$VMLINUZ" 2>"$tmp/err"
}

kvm_abort_falls_back() {
	local v
	v=$(probe abort) || fail "accel.sh failed"
	[ "$v" = tcg ] || fail "verdict $v, wanted tcg"
	grep -q 'exited 134.*MSR 0x10a' "$tmp/err" || fail "reason not said: $(cat "$tmp/err")"
	[ "$(grep -c -- -enable-kvm "$tmp/calls")" -eq 1 ] || fail "KVM not tried exactly once"
}

kvm_hang_falls_back() {
	local v
	v=$(probe hang ACCEL_PROBE_TIMEOUT=3) || fail "accel.sh failed"
	[ "$v" = tcg ] || fail "verdict $v, wanted tcg"
	grep -q 'no output' "$tmp/err" || fail "reason not said: $(cat "$tmp/err")"
}

kvm_working_is_used() {
	local v
	# A real boot under TCG stands in for KVM: allow for a busy host.
	v=$(probe works ACCEL_PROBE_TIMEOUT=180) || fail "accel.sh failed"
	[ "$v" = kvm ] || fail "verdict $v, wanted kvm: $(cat "$tmp/err")"
}

no_device_no_probe() {
	local v
	v=$(probe abort ACCEL_KVM_DEV="$tmp/none") || fail "accel.sh failed"
	[ "$v" = tcg ] || fail "verdict $v"
	[ ! -s "$tmp/calls" ] || fail "qemu was started: $(cat "$tmp/calls")"
}

verdict_cached_per_run() {
	local v
	v=$(probe abort ACCEL_CACHE="$tmp/cache") || fail "first probe"
	[ "$v" = tcg ] || fail "verdict $v"
	v=$(probe abort ACCEL_CACHE="$tmp/cache") || fail "second probe"
	[ "$v" = tcg ] || fail "cached verdict $v"
	[ ! -s "$tmp/calls" ] || fail "second probe started qemu again"
}

# guest STUBMODE [env...]: the 6.1 guest with module_load.sh only.
guest() {
	local dir run
	dir=$(stub "$1")
	shift
	: >"$tmp/calls"
	run=$(env -u VM_ACCEL -u ACCEL_CACHE PATH="$dir:$PATH" ACCEL_KVM_DEV="$tmp/kvm" \
		KERNEL=6.1 ONLY=module_load.sh OUT="$tmp/run" "$@" \
		"$top/scripts/vm.sh" test 2>"$tmp/err" | tail -n1)
	[ -f "$run/result.log" ] || fail "vm.sh failed: $(tail -n 3 "$tmp/err")"
	grep -q '^ok 1 selftests: module_load.sh' "$run/result.log" ||
		fail "module_load.sh did not pass: $(grep -E 'not ok|FAIL' "$run/result.log" | head -n 5)"
	grep -q '^TCPTERM-VM-DONE rc=0' "$run/result.log" || fail "guest did not finish"
	echo "$run"
}

broken_kvm_run_passes_on_tcg() {
	local run
	run=$(guest abort) || exit 1
	[ "$(cat "$run/accel")" = tcg ] || fail "ran under $(cat "$run/accel")"
	grep -q -- '-enable-kvm' "$tmp/calls" || fail "KVM was not probed"
}

vm_accel_tcg_never_tries_kvm() {
	local run
	rm -rf "$tmp/run"
	run=$(guest abort VM_ACCEL=tcg) || exit 1
	[ "$(cat "$run/accel")" = tcg ] || fail "ran under $(cat "$run/accel")"
	! grep -q -- 'kvm' "$tmp/calls" || fail "KVM tried: $(grep kvm "$tmp/calls")"
}

# A program on the kernel harness (selftests/harness.h), built and run
# on the host, nested as run_kselftest.sh nests it: every case must be
# counted once, as what it was, and a failed case must fail the program.
harness_output_counted() {
	local top_ksft=$top/build/kselftest counts
	make -s -C "$top/selftests" ../build/kselftest/.stamp || fail "no kselftest_harness.h"
	cat >"$tmp/h.c" <<'C'
#include "harness.h"
#include <signal.h>

FIXTURE(f) {
	int fd;
};
FIXTURE_VARIANT(f) {
	int n;
};
FIXTURE_VARIANT_ADD(f, one) { .n = 1 };
FIXTURE_VARIANT_ADD(f, two) { .n = 2 };
FIXTURE_SETUP(f) { self->fd = -1; }
FIXTURE_TEARDOWN(f) { printf("# teardown %d\n", variant->n); }

TEST_F(f, passes) { ASSERT_EQ(variant->n, variant->n); }
TEST_F(f, assert_fails) { ASSERT_EQ(3, variant->n); TH_LOG("not reached"); }
TEST_F(f, expect_fails) { EXPECT_EQ(3, variant->n); EXPECT_EQ(4, variant->n); }
TEST_F(f, skips) { SKIP(return, "asked to skip %d", variant->n); }
TEST_F(f, helper_fails) { tt_wait_inq(self->fd, 1); }
TEST_F_TIMEOUT(f, times_out, 1) { sleep(30); }
TEST_F(f, crashes) { raise(SIGSEGV); }

TT_HARNESS_MAIN
C
	gcc -O2 -Wall -I"$top/selftests" -I"$top_ksft" -o "$tmp/h" "$tmp/h.c" \
		"$top/selftests/lib.c" 2>"$tmp/h.err" || fail "build: $(head -n 5 "$tmp/h.err")"
	{
		echo "# selftest: h"
		"$tmp/h" 2>&1 | sed 's/^/  /'
		echo "rc=${PIPESTATUS[0]}"
	} >"$tmp/h.log"
	grep -q '^rc=1$' "$tmp/h.log" || fail "exit status: $(tail -n 1 "$tmp/h.log")"
	counts=$(. "$top/scripts/ktap.sh"; ktap_counts "$tmp/h.log")
	[ "$counts" = "2 10 2" ] || fail "counted $counts, wanted 2 10 2: $(grep -E '^ +(not )?ok' "$tmp/h.log")"
	grep -q '^  # Totals: pass:2 fail:10 xfail:0 xpass:0 skip:2 error:0$' "$tmp/h.log" ||
		fail "totals: $(grep Totals "$tmp/h.log")"
	grep -q '^  1\.\.14$' "$tmp/h.log" || fail "no plan of 14"
	grep -q 'not reached' "$tmp/h.log" && fail "ASSERT_EQ did not stop the case"
	[ "$(grep -c 'teardown' "$tmp/h.log")" -ge 10 ] || fail "teardowns: $(grep -c teardown "$tmp/h.log")"
	# A case that dies mid-way is named as the one that was running.
	sed '/f.one.helper_fails/q' "$tmp/h.log" >"$tmp/h.cut"
	[ "$(. "$top/scripts/ktap.sh"; ktap_last_running "$tmp/h.cut")" = "h, case f.one.helper_fails" ] ||
		fail "last running: $(. "$top/scripts/ktap.sh"; ktap_last_running "$tmp/h.cut")"
	# The selection TCPTERM_ONLY=PROGRAM:FILTER passes: a substring.
	"$tmp/h" passes >"$tmp/h.sel" 2>&1 || fail "selected cases failed"
	grep -q '^1\.\.2$' "$tmp/h.sel" || fail "selection: $(cat "$tmp/h.sel")"
	[ "$(grep -c '^ok [0-9]* f\.[a-z]*\.passes$' "$tmp/h.sel")" -eq 2 ] || fail "selection ran $(grep -c '^ok' "$tmp/h.sel")"
	"$tmp/h" -r f.two.skips >"$tmp/h.sel" 2>&1 || fail "-r failed"
	grep -q '^ok 1 # SKIP asked to skip 2$' "$tmp/h.sel" || fail "-r: $(cat "$tmp/h.sel")"
}

echo "KTAP version 1"
echo "1..8"
for t in ${TESTS:-harness_output_counted kvm_abort_falls_back kvm_hang_falls_back kvm_working_is_used \
	no_device_no_probe verdict_cached_per_run \
	broken_kvm_run_passes_on_tcg vm_accel_tcg_never_tries_kvm}; do
	echo "# RUN $t"
	(exec 3>&1; $t)
	result $? "$t"
done
[ $fails -eq 0 ]
