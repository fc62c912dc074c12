#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one test command: install what is missing, build the module and
# the selftests, check style, then for each kernel boot the VM and run
# every selftest.  Ends with
#   N passed, N failed, N skipped
# counting each test case on each kernel.  Exits non-zero on any failure,
# on a kernel splat in a guest log, or when a VM did not finish.
#
# KERNELS: which kernels, default "6.1 6.12 7.2 debug".  6.1 (alias
# debian) is the host's Debian kernel, 6.12 Debian's bookworm-backports
# build, 7.2 Debian sid's (both fetched by scripts/kernel.sh into a cache
# of the project's), debug the 6.1 source built with KASAN, lockdep and
# kmemleak (scripts/debug-kernel.sh, cached per machine).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
KERNELS=${KERNELS:-6.1 6.12 7.2 debug}

scripts/deps.sh || exit 1
mkdir -p build
make -s module 2>&1 | tee build/module-build.log || exit 1
make -s selftests || exit 1

# Kernels from Debian's archive: download while the first kernel runs.
declare -A fetch_pid
for k in $KERNELS; do
	case $k in
	6.12 | 7.2)
		scripts/kernel.sh fetch "$k" >"build/fetch-$k.log" 2>&1 &
		fetch_pid[$k]=$!
		;;
	esac
done

summary=()
total_pass=0
total_fail=0
total_skip=0

# Count the nested (indented) KTAP results of a file.
tally() { # file label
	local p f s
	p=$(grep -Ec '^ +ok [0-9]+ [^#]*$' "$1")
	s=$(grep -Ec '^ +ok [0-9]+ .*# SKIP' "$1")
	f=$(grep -Ec '^ +not ok [0-9]+' "$1")
	echo "# $2: $p passed, $f failed, $s skipped"
	summary+=("$2: $p passed, $f failed, $s skipped")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
}

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
	check sparse_clean bash -c 'make sparse 2>&1 | tee /dev/stderr | { ! grep -E "(warning|error):"; }'
	check api_break_fails_build scripts/api-break.sh
} >"$host"
cat "$host"
tally "$host" host

splat='BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection|possible recursive locking|inconsistent lock state|possible circular locking|suspicious RCU usage|self-detected stall|RCU stall|Kernel panic|list_add corruption|list_del corruption|refcount_t:|kmemleak:.*suspected'

# Build the module for the debug kernel in a copy of the sources.
build_debug_module() { # tree
	local dir=$top/build/debug-mod
	mkdir -p "$dir"
	cp -a --update Kbuild module uapi "$dir/"
	make -s -C "$1" M="$dir" modules >"$top/build/debug-mod.log" 2>&1 ||
		{ cat "$top/build/debug-mod.log"; return 1; }
	echo "$dir/module/tcpterm.ko"
}

# Build the module for a Debian kernel of the matrix, as a test case:
# the W=1 build must succeed without a warning.  Prints the .ko path.
build_matrix_module() { # name
	local log=$top/build/mod-$1.log ko
	if [ -n "${fetch_pid[$1]:-}" ] && ! wait "${fetch_pid[$1]}"; then
		sed 's/^/  # /' "build/fetch-$1.log" | tail -n 20 >&2
		return 1
	fi
	ko=$(scripts/kernel.sh build "$1" "$top/build/mod-$1" 2>"$log" | tail -n1)
	if [ ! -f "$ko" ] || grep -qiE "warning:|error:" "$log"; then
		grep -iE "warning:|error:" "$log" | head -n 20 | sed 's/^/  # /' >&2
		return 1
	fi
	echo "$ko"
}

for k in $KERNELS; do
	[ "$k" = debian ] && k=6.1
	echo "# kernel: $k"
	envs=(KERNEL="$k")
	case $k in
	6.1) envs+=(KO="$top/module/tcpterm.ko") ;;
	6.12 | 7.2)
		ko=$(build_matrix_module "$k")
		if [ -z "$ko" ]; then
			echo "  not ok 1 build_w1_warning_free_$k"
			total_fail=$((total_fail + 1))
			continue
		fi
		echo "  ok 1 build_w1_warning_free_$k"
		total_pass=$((total_pass + 1))
		envs+=(KO="$ko")
		;;
	debug)
		tree=$(scripts/debug-kernel.sh | tail -n1)
		ko=$( [ -d "$tree" ] && build_debug_module "$tree" | tail -n1)
		if [ ! -f "$ko" ]; then
			echo "  not ok 1 debug_kernel_build"
			total_fail=$((total_fail + 1))
			continue
		fi
		envs+=(DEBUG_TREE="$tree" KO="$ko")
		;;
	*)
		echo "  not ok 1 unknown_kernel_$k"
		total_fail=$((total_fail + 1))
		continue
		;;
	esac
	run=$(env "${envs[@]}" scripts/vm.sh test | tail -n1)
	if [ ! -d "$run" ]; then
		echo "  not ok 1 vm_runner_$k"
		total_fail=$((total_fail + 1))
		continue
	fi
	cat "$run/result.log"
	tally "$run/result.log" "$k"
	if ! grep -q '^TCPTERM-VM-DONE' "$run/result.log"; then
		echo "not ok: the $k VM did not finish (see $run/console.log)"
		total_fail=$((total_fail + 1))
	fi
	if grep -E "$splat" "$run/console.log" >"$run/splats.txt"; then
		echo "not ok: kernel splat in the $k guest log:"
		sed 's/^/#   /' "$run/splats.txt" | head -n 40
		total_fail=$((total_fail + 1))
	fi
	echo "# $k kernel log: $run/console.log"
done

echo "# results per kernel:"
for line in "${summary[@]}"; do
	echo "#   $line"
done
if [ $((total_pass + total_fail)) -eq 0 ]; then
	echo "no test ran"
	total_fail=1
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
