#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's own kernel in QEMU with tcpterm.ko and the selftests in an
# initramfs, run MODE inside, and bring the output back.
#
#   scripts/vm.sh test    run every selftest (KTAP on the result port)
#   scripts/vm.sh demo    run the narrated demo
#   scripts/vm.sh bench   selftests/tcpterm_bench: what tcpterm costs
#
# Two serial ports, as in WireGuard's harness: ttyS0 carries the kernel
# console (kept in console.log), ttyS1 carries only what MODE prints
# (result.log).  The run directory is printed on the last line.
#
# Environment: KERNEL=6.1 (or debian: the newest installed Debian amd64
# kernel), 6.12 or 7.2 (Debian's, fetched by scripts/kernel.sh), or debug
# (DEBUG_TREE: a tree built by scripts/debug-kernel.sh, everything the
# tests need built in); KO (the
# module to test, default module/tcpterm.ko), VM_ACCEL=kvm|tcg (default:
# probed by scripts/accel.sh, verdict cached in ACCEL_CACHE), VM_TCG_THREAD
# (single, the default, or multi), VM_TIMEOUT (seconds; TCG default 1500, debug 2700,
# a third of that under KVM), VM_MEM (MiB), VM_SMP, OUT (run directory),
# ONLY=PROGRAM[:FILTER] (test mode: run one selftest, or its matching
# cases), SUITE=full|debug|debug2|debug3 (test mode: which programs, see
# selftests/run_kselftest.sh), TCPTERM_BENCH_* (bench mode: passed to
# the benchmark, see selftests/tcpterm_bench.c).  Bench mode's VM_MEM
# defaults to 3072 (100,000 connections open at once); under TCG it
# runs with VM_ICOUNT=shift=3,sleep=off (QEMU's -icount; "off" turns it
# off) and VM_SMP=1.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-test}
KERNEL=${KERNEL:-debian}
KO=${KO:-$top/module/tcpterm.ko}
cache=$top/build/vm
OUT=${OUT:-$cache/runs/$(date +%Y%m%d-%H%M%S)-$KERNEL-$mode}

die() { echo "vm: $*" >&2; exit 1; }

# Modules the tests need from a Debian kernel, in load order; their own
# dependencies are added from modules.dep.
kmods_debian=(drivers/net/veth net/sched/sch_netem drivers/net/tun
	      net/ipv4/inet_diag net/ipv4/tcp_diag
	      net/sched/sch_ingress net/sched/cls_u32 net/sched/act_pedit
	      crypto/crc32c_generic net/sched/act_csum)

case $KERNEL in
debian | 6.1 | 6.12 | 7.2)
	[ "$KERNEL" = debian ] && KERNEL=6.1
	eval "$("$top/scripts/kernel.sh" fetch "$KERNEL" | grep -E '^(KVER|VMLINUZ|MODDIR)=')"
	vmlinuz=$VMLINUZ
	if [ "$mode" = bench ]; then
		VM_MEM=${VM_MEM:-3072}
	else
		VM_MEM=${VM_MEM:-1024}
	fi
	tcg_timeout=1500
	kmods=("${kmods_debian[@]}")
	;;
debug)
	[ -d "${DEBUG_TREE:-}" ] || die "DEBUG_TREE: run scripts/debug-kernel.sh"
	KVER=$(cat "$DEBUG_TREE/include/config/kernel.release")
	vmlinuz=$DEBUG_TREE/arch/x86/boot/bzImage
	VM_MEM=${VM_MEM:-2048}	# KASAN shadow memory
	tcg_timeout=2700
	kmods=()
	;;
*) die "KERNEL=$KERNEL: 6.1 (or debian), 6.12, 7.2 or debug" ;;
esac
[ -r "$vmlinuz" ] || die "$vmlinuz missing"
[ -r "$KO" ] || die "$KO missing: run make"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"

mkdir -p "$cache" "$OUT"

# Copy a binary and the shared objects it needs into the tree at $1.
copy_bin() {
	local root=$1 bin=$2 dest=$3 lib
	install -D -m 0755 "$bin" "$root$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' ); do
		[ -e "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
	done
}

# The modules named, after their dependencies (modules.dep), each once;
# paths relative to $MODDIR, without the .ko suffix.
module_order() {
	local m d seen=" "
	visit() {
		local line dep
		case $seen in *" $1 "*) return ;; esac
		seen="$seen$1 "
		line=$(grep -E "^(kernel/)?$1\.ko[^:]*:" "$MODDIR/modules.dep" 2>/dev/null | head -n1)
		for dep in ${line#*:}; do
			dep=${dep%.ko*}
			visit "${dep#kernel/}"
		done
		echo "kernel/$1"
	}
	for m in "$@"; do
		visit "$m"
	done
}

# The base archive: busybox, iproute2, kernel modules.  Rebuilt only when
# the kernel version or this script changes.
base=$cache/base-$KVER.cpio
if [ ! -s "$base" ] || [ "$0" -nt "$base" ]; then
	echo "vm: building base initramfs for $KVER" >&2
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,var,lib/modules/"$KVER"}
	ln -s ../run "$root/var/run"
	install -m 0755 "$(command -v busybox)" "$root/bin/busybox"
	copy_bin "$root" "$(command -v ip)" /sbin/ip
	copy_bin "$root" "$(command -v tc)" /sbin/tc
	copy_bin "$root" "$(command -v ss)" /sbin/ss
	: >"$root/lib/modules/$KVER/load-order"
	for m in $(module_order ${kmods[@]+"${kmods[@]}"}); do
		src=$(ls "$MODDIR/$m".ko* 2>/dev/null | head -n1 || true)
		[ -n "$src" ] || continue	# built in
		name=$(basename "$m")
		case $src in
		*.xz) xz -dc "$src" >"$root/lib/modules/$KVER/$name.ko" ;;
		*.zst) zstd -qdc "$src" >"$root/lib/modules/$KVER/$name.ko" ;;
		*) cp "$src" "$root/lib/modules/$KVER/$name.ko" ;;
		esac
		echo "$name" >>"$root/lib/modules/$KVER/load-order"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
	echo "nobody:x:65534:65534:nobody:/:/bin/sh" >>"$root/etc/passwd"
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$base.tmp"
	mv "$base.tmp" "$base"
	rm -rf "$root"
fi

# The project archive: module, selftests, init.  Small; always rebuilt.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/selftests"
install -m 0755 "$top/scripts/vm-init.sh" "$root/init"
install -m 0644 "$KO" "$root/tcpterm.ko"
cp -a "$top/selftests/." "$root/selftests/"
rm -f "$root"/selftests/*.[cho] "$root/selftests/Makefile"
# tcpterm(8) and its preload library where make install puts them (the
# library's directory is compiled into the tool), with their shared
# libraries; selftests/tcpterm_tool.sh skips without them.
if [ -x "$top/tools/tcpterm/tcpterm" ]; then
	copy_bin "$root" "$top/tools/tcpterm/tcpterm" /usr/sbin/tcpterm
	copy_bin "$root" "$top/tools/tcpterm/libtcpterm-run.so" /usr/lib/tcpterm/libtcpterm-run.so
fi
[ -f "$top/scripts/demo-guest.sh" ] && install -m 0755 "$top/scripts/demo-guest.sh" "$root/demo.sh"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$OUT/project.cpio"
cat "$base" "$OUT/project.cpio" >"$OUT/initramfs.cpio"
rm -f "$OUT/project.cpio"

# The accelerator comes from a probe boot (scripts/accel.sh), never from
# the presence of /dev/kvm; timeouts are set for TCG and cut for KVM.
accel_name=$("$top/scripts/accel.sh" "$vmlinuz") || die "no accelerator"
case $accel_name in
kvm)
	accel=(-enable-kvm -cpu host)
	VM_TIMEOUT=${VM_TIMEOUT:-$((tcg_timeout / 3))}
	;;
*)
	# One host thread for all vCPUs: multi-threaded TCG does not keep
	# cross-modified kernel text coherent between vCPUs (int3 oopses,
	# calls to NULL and lockups at text-poke sites, with or without
	# tcpterm: Documentation/networking/tcpterm.rst, "Testing").
	accel=(-accel "tcg,thread=${VM_TCG_THREAD:-single}")
	VM_TIMEOUT=${VM_TIMEOUT:-$tcg_timeout}
	# The benchmark measures instructions, not host time: with -icount
	# the guest clock advances 2^shift ns per instruction executed and
	# jumps over idle time, so the host's other load does not enter
	# its numbers (run to run they differ by well under 1 %, where
	# host time varies by tens of percent).  One vCPU: the benchmark
	# is one thread, and with -icount the guest hung bringing up its
	# second vCPU (Debian 12's QEMU and kernel).
	if [ "$mode" = bench ] && [ "${VM_ICOUNT:-}" != off ]; then
		VM_ICOUNT=${VM_ICOUNT:-shift=3,sleep=off}
		VM_SMP=${VM_SMP:-1}
	fi
	if [ -n "${VM_ICOUNT:-}" ] && [ "$VM_ICOUNT" != off ]; then
		accel+=(-icount "$VM_ICOUNT")
	fi
	;;
esac
VM_SMP=${VM_SMP:-2}
echo "$accel_name" >"$OUT/accel"

# The benchmark's knobs, on the kernel command line for vm-init.sh (one
# word each: spaces become commas).
bench_env=
for v in TCPTERM_BENCH_ROUNDS TCPTERM_BENCH_SECONDS TCPTERM_BENCH_MEM_SOCKETS \
	 TCPTERM_BENCH_SMOKE; do
	val=${!v:-}
	if [ -n "$val" ]; then
		bench_env="$bench_env $v=${val// /,}"
	fi
done

echo "vm: booting $KVER ($mode) under $accel_name (${accel[*]}), logs in $OUT" >&2
set +e
timeout --foreground -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
	"${accel[@]}" -m "$VM_MEM" -smp "$VM_SMP" \
	-nodefaults -display none -no-reboot -monitor none \
	-kernel "$vmlinuz" -initrd "$OUT/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 panic_on_warn=1 oops=panic softlockup_panic=1 tcpterm_mode=$mode${ONLY:+ tcpterm_only=$ONLY}${SUITE:+ tcpterm_suite=$SUITE}$bench_env" \
	-serial "file:$OUT/console.log" -serial "file:$OUT/result.raw" \
	</dev/null >"$OUT/qemu.log" 2>&1
qrc=$?
set -e
tr -d '\r' <"$OUT/result.raw" >"$OUT/result.log"
rm -f "$OUT/result.raw" "$OUT/initramfs.cpio"
[ $qrc -eq 124 ] && echo "vm: timed out after ${VM_TIMEOUT}s" >>"$OUT/result.log"
echo "vm: qemu exit $qrc" >>"$OUT/qemu.log"
echo "$OUT"
