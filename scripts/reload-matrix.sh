#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reproduce the unload-under-traffic crash on purpose: boot each kernel
# under each accelerator configuration and run tcpterm_reload with each
# hook, counting guests that crashed.
#
#   KERNELS="6.1 6.12 7.2" ACCELS="tcg-multi tcg-single kvm" \
#   HOOKS="tcpterm kprobe" CYCLES=50 REPS=1 scripts/reload-matrix.sh
#
# Prints a table (kernel, accelerator, hook, runs, crashes, first crash
# line) and keeps it in build/reload-matrix.txt.  kvm is skipped when the
# probe says KVM does not work here.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
KERNELS=${KERNELS:-6.1 6.12 7.2}
ACCELS=${ACCELS:-tcg-multi tcg-single kvm}
HOOKS=${HOOKS:-tcpterm kprobe}
CYCLES=${CYCLES:-50}
REPS=${REPS:-1}
out=$top/build/reload-matrix.txt
export ACCEL_CACHE=$top/build/reload-matrix.accel
rm -f "$ACCEL_CACHE"

printf '%-6s %-11s %-8s %4s %7s  %s\n' kernel accel hook runs crashes first-crash | tee "$out"
for k in $KERNELS; do
	if [ "$k" = 6.1 ]; then
		ko=$top/module/tcpterm.ko
	else
		ko=$(scripts/kernel.sh build "$k" "$top/build/mod-$k" 2>/dev/null | tail -n1)
	fi
	if [ ! -f "$ko" ]; then
		echo "reload-matrix: no module for $k" >&2
		continue
	fi
	vml=$(scripts/kernel.sh fetch "$k" | sed -n 's/^VMLINUZ=//p')
	for a in $ACCELS; do
		envs=(VM_ACCEL=tcg VM_TCG_THREAD=${a#tcg-})
		if [ "$a" = kvm ]; then
			[ "$(scripts/accel.sh "$vml" 2>/dev/null)" = kvm ] || {
				printf '%-6s %-11s %-8s %4s %7s  %s\n' "$k" "$a" - - - "KVM does not work here" | tee -a "$out"
				continue
			}
			envs=(VM_ACCEL=kvm)
		fi
		for h in $HOOKS; do
			runs=0 crashes=0 first=
			for _ in $(seq "$REPS"); do
				run=$(env "${envs[@]}" KERNEL="$k" KO="$ko" \
					ONLY="tcpterm_reload:$h,$CYCLES" \
					scripts/vm.sh test 2>/dev/null | tail -n1)
				if [ ! -f "$run/console.log" ]; then
					echo "reload-matrix: $k $a $h: the runner failed" >&2
					continue
				fi
				runs=$((runs + 1))
				if ! grep -q '^TCPTERM-VM-DONE' "$run/result.log" ||
				   grep -qE 'Oops|Kernel panic|BUG:|WARNING:' "$run/console.log"; then
					crashes=$((crashes + 1))
					[ -n "$first" ] || first="$(grep -m1 -E 'Oops|BUG:|WARNING:|Kernel panic' "$run/console.log" | cut -c1-60) ($run)"
				fi
			done
			printf '%-6s %-11s %-8s %4s %7s  %s\n' "$k" "$a" "$h" "$runs" "$crashes" "$first" | tee -a "$out"
		done
	done
done
