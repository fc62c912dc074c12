#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which QEMU accelerator the test VMs use: prints "kvm" or "tcg".
#
#   scripts/accel.sh VMLINUZ
#
# /dev/kvm being there proves nothing: under nested virtualisation KVM
# can abort at start ("failed to set MSR 0x10a") or run a guest that
# never prints a line.  So the verdict comes from a boot: VMLINUZ (the
# test kernel itself) with an initramfs whose init prints a marker on
# the console and powers off, under KVM, with a short timeout.  The
# marker back means kvm; anything else means tcg, and the reason is
# said once on stderr.
#
# Environment:
#   VM_ACCEL=kvm|tcg     no probe: use this
#   ACCEL_CACHE=FILE     the verdict of this run: read it if it exists,
#                        write it otherwise (scripts/run-tests.sh sets it
#                        per run, so a verdict never moves between runs
#                        or machines)
#   ACCEL_PROBE_TIMEOUT  seconds for the probe boot (default 60)
set -euo pipefail

vmlinuz=${1:?usage: accel.sh VMLINUZ}
say() { echo "accel: $*" >&2; }

case ${VM_ACCEL:-} in
kvm | tcg)
	[ -n "${ACCEL_CACHE:-}" ] && echo "$VM_ACCEL" >"$ACCEL_CACHE"
	echo "$VM_ACCEL"
	exit 0
	;;
"") ;;
*) say "VM_ACCEL=$VM_ACCEL: kvm or tcg"; exit 1 ;;
esac

if [ -n "${ACCEL_CACHE:-}" ] && [ -s "$ACCEL_CACHE" ]; then
	cat "$ACCEL_CACHE"
	exit 0
fi

verdict() { # kvm|tcg [reason]
	[ -n "${2:-}" ] && say "$2; using tcg (software emulation)"
	[ "$1" = kvm ] && say "KVM works (probe boot printed its marker)"
	[ -n "${ACCEL_CACHE:-}" ] && echo "$1" >"$ACCEL_CACHE"
	echo "$1"
	exit 0
}

kvm=${ACCEL_KVM_DEV:-/dev/kvm}	# the runner's own test points it elsewhere
[ -e "$kvm" ] || verdict tcg "no $kvm"
{ [ -r "$kvm" ] && [ -w "$kvm" ]; } || verdict tcg "$kvm not usable by $(id -un)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
marker=TCPTERM-ACCEL-PROBE-$$
mkdir -p "$tmp/root/bin" "$tmp/root/dev"
install -m 0755 "$(command -v busybox)" "$tmp/root/bin/busybox"
cat >"$tmp/root/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox echo $marker >/dev/ttyS0
/bin/busybox poweroff -f
EOF
chmod 0755 "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc --quiet) >"$tmp/probe.cpio"

limit=${ACCEL_PROBE_TIMEOUT:-60}
# In a subshell whose stderr is dropped, so that the shell's own note
# on a qemu killed by SIGABRT does not reach the user twice.
rc=$( {
	timeout -k 5 "$limit" qemu-system-x86_64 -enable-kvm -cpu host \
		-m 256 -smp 1 -nodefaults -display none -no-reboot \
		-monitor none -kernel "$vmlinuz" -initrd "$tmp/probe.cpio" \
		-append "console=ttyS0 quiet panic=-1" \
		-serial "file:$tmp/console" </dev/null >"$tmp/qemu.log" 2>&1
	echo $?
} 2>/dev/null)
grep -q "$marker" "$tmp/console" 2>/dev/null && verdict kvm
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	verdict tcg "KVM probe: no output from the kernel within ${limit}s"
fi
why=$(grep -v '^$' "$tmp/qemu.log" | head -n 1 || true)
[ -n "$why" ] || why="no marker on the console"
verdict tcg "KVM probe: qemu exited $rc: $why"
