#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one test command: install what is missing, build the module and
# the selftests, boot the VM, run every selftest, and report
#   N passed, N failed, N skipped
# counting each test case.  Exits non-zero on any failure, on a kernel
# splat in the guest log, or when the VM did not finish.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh || exit 1
make -s module || exit 1
make -s selftests || exit 1

run=$(scripts/vm.sh test | tail -n1)
[ -d "$run" ] || { echo "vm runner failed"; echo "0 passed, 1 failed"; exit 1; }
result=$run/result.log
console=$run/console.log

cat "$result"

# Test cases are the nested (indented) KTAP results.
passed=$(grep -Ec '^ +ok [0-9]+ [^#]*$' "$result")
skipped=$(grep -Ec '^ +ok [0-9]+ .*# SKIP' "$result")
failed=$(grep -Ec '^ +not ok [0-9]+' "$result")

if ! grep -q '^TCPTERM-VM-DONE' "$result"; then
	echo "not ok: the VM did not finish (see $console)"
	failed=$((failed + 1))
fi

splat='BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection|possible recursive locking|inconsistent lock state|possible circular locking|suspicious RCU usage|self-detected stall|RCU stall|Kernel panic|list_add corruption|list_del corruption|refcount_t:'
if grep -E "$splat" "$console" >"$run/splats.txt"; then
	echo "not ok: kernel splat in the guest log:"
	sed 's/^/#   /' "$run/splats.txt" | head -n 40
	failed=$((failed + 1))
fi

echo "# kernel log: $console"
if [ $((passed + failed)) -eq 0 ]; then
	echo "no test ran"
	failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
