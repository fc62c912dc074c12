#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the test runner itself (KTAP, nested): the accelerator is
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

echo "KTAP version 1"
echo "1..7"
for t in ${TESTS:-kvm_abort_falls_back kvm_hang_falls_back kvm_working_is_used \
	no_device_no_probe verdict_cached_per_run \
	broken_kvm_run_passes_on_tcg vm_accel_tcg_never_tries_kvm}; do
	echo "# RUN $t"
	(exec 3>&1; $t)
	result $? "$t"
done
[ $fails -eq 0 ]
