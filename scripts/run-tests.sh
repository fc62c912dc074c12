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
mkdir -p build
make -s module 2>&1 | tee build/module-build.log || exit 1
make -s selftests || exit 1

# Host-side checks, reported as test cases like the guest's.
host=build/host-checks.log
{
	echo "# selftest: host_checks"
	n=0
	check() { # name, then the command
		local name=$1
		shift
		n=$((n + 1))
		if "$@" >"build/$name.log" 2>&1; then
			echo "  ok $n $name"
		else
			sed 's/^/  # /' "build/$name.log" | head -n 30
			echo "  not ok $n $name"
		fi
	}
	check build_w1_warning_free bash -c '! grep -E "warning:|error:" build/module-build.log'
	check checkpatch_strict scripts/style.sh
	check sparse_clean bash -c 'touch module/*.c && make sparse 2>&1 | tee /dev/stderr | { ! grep -E "(warning|error):"; }'
} >"$host"

run=$(scripts/vm.sh test | tail -n1)
[ -d "$run" ] || { echo "vm runner failed"; echo "0 passed, 1 failed"; exit 1; }
result=$run/result.log
console=$run/console.log

cat "$host" "$result"

# Test cases are the nested (indented) KTAP results.
passed=$(cat "$host" "$result" | grep -Ec '^ +ok [0-9]+ [^#]*$')
skipped=$(cat "$host" "$result" | grep -Ec '^ +ok [0-9]+ .*# SKIP')
failed=$(cat "$host" "$result" | grep -Ec '^ +not ok [0-9]+')

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
