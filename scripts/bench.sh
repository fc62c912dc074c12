#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the VM once in bench mode (selftests/tcpterm_bench),
# print the table it ends with and keep it in build/bench/<stamp>.txt,
# the guest's whole output beside it in <stamp>.log.  Fails when the
# table is missing or incomplete (the guest died or timed out).
#
# Environment: TCPTERM_BENCH_ROUNDS (10), TCPTERM_BENCH_SECONDS (2, per
# workload and run), TCPTERM_BENCH_MEM_SOCKETS ("10000 100000"), passed
# to the guest; and what scripts/vm.sh takes (VM_ACCEL, VM_MEM, KERNEL).
# The defaults take about 12 minutes under TCG on a 2-core machine.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
t0=$(date +%s)
run=$("$top/scripts/vm.sh" bench | tail -n1)
cp "$run/result.log" "$out/$stamp.log"
sed -n '/^==== tcpterm bench ====$/,/^==== end ====$/p' "$run/result.log" \
	>"$out/$stamp.txt"
if ! grep -q '^==== end ====$' "$out/$stamp.txt"; then
	rm -f "$out/$stamp.txt"
	tail -n 20 "$run/result.log" >&2
	echo "bench: no complete table; guest output in $out/$stamp.log, console in $run/console.log" >&2
	exit 1
fi
cat "$out/$stamp.txt"
echo "bench: $(($(date +%s) - t0)) s; table in $out/$stamp.txt, guest output in $out/$stamp.log"
