#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one test command (make check): install what is missing, build the
# module and the selftests, run the host checks, then for each kernel
# boot a VM and run the selftests.  Ends with
#   N passed, N failed, N skipped
# counting each test case on each kernel.  Exits non-zero on any failure,
# on a kernel splat in a guest log, or when a VM did not finish.
#
# KERNELS      which kernels, default "6.1 6.12 7.2 debug debug2 debug3".  6.1
#              (alias debian) is Debian 12's kernel, 6.12 Debian's
#              bookworm-backports build, 7.2 Debian sid's (both fetched by
#              scripts/kernel.sh), debug the 6.1 source built with KASAN,
#              lockdep and kmemleak (scripts/debug-kernel.sh, cached), its
#              module built with fault injection (module/fault.h); debug2
#              and debug3 more guests of it, for the rest of the programs.
# DEBUG_SUITE  what the debug kernel runs: "debug" (default: the "debug",
#              "debug2" and "debug3" lists in selftests/run_kselftest.sh, one per
#              guest) or "full" (make check-full: all in the first).
# VM_JOBS      guests run at once; default: one per host core under TCG
#              (single-threaded), one per two cores under KVM.
# VM_ACCEL     kvm or tcg; default: probed once per run (scripts/accel.sh).
#
# Time: each phase is timed against a budget (below); the table is
# printed at the end and kept with the run's logs in build/check/<stamp>/.
# A phase over its budget prints a warning, so growth is seen the day it
# happens.  Background phases (kernel fetches, the debug kernel build)
# are timed on their own and in what the run waited for them.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
KERNELS=${KERNELS:-6.1 6.12 7.2 debug debug2 debug3}
KERNELS=${KERNELS//debian/6.1}
DEBUG_SUITE=${DEBUG_SUITE:-debug}
ncpu=$(nproc)

run_dir=$top/build/check/$(date +%Y%m%d-%H%M%S)
mkdir -p "$run_dir"
export ACCEL_CACHE=$run_dir/accel
run_t0=$(date +%s)

# --- phases and their budgets ----------------------------------------------
#
# Seconds, for a fresh machine of the project's kind (2 cores, TCG); the
# whole run must stay under 55 minutes there and under 40 with warm
# caches (the debug kernel already built), well inside CI's 90.  Three
# debug guests (every wire test under KASAN and lockdep) are most of it.
# A guest's budget allows for one other guest running beside it
# (VM_JOBS).
declare -A budget=(
	[deps]=240 [build]=90 [host_checks]=300 [runner]=240 [tool_docs]=120
	[packaging]=300
	[fetch_6.12]=300 [fetch_7.2]=480 [debug_kernel_build]=1500
	[guest_6.1]=540 [guest_6.12]=540 [guest_7.2]=540 [guest_debug]=1000
	[guest_debug2]=1000 [guest_debug3]=1000
)
budget_fresh=3300
budget_warm=2400
phases=$run_dir/phases.tsv
: >"$phases"

now() { date +%s; }
phase_done() { # name seconds
	printf '%s\t%s\n' "$1" "$2" >>"$phases"
}
timed() { # name command...: run and time a foreground phase
	local name=$1 t0 rc
	shift
	t0=$(now)
	"$@"
	rc=$?
	phase_done "$name" $(($(now) - t0))
	return $rc
}
# A background job timed from its own start to its own end; the caller
# keeps the pid and waits for it (never from a subshell).
bg_timed() { # name log command...
	local name=$1 log=$2
	shift 2
	(
		t0=$(now)
		"$@" >"$log" 2>&1
		rc=$?
		phase_done "$name" $(($(now) - t0))
		exit $rc
	) &
}

# --- results ---------------------------------------------------------------

summary=()
total_pass=0
total_fail=0
total_skip=0

. "$top/scripts/ktap.sh"

# Count the nested (indented) KTAP results of a file.
tally() { # file label
	local p f s
	read -r p f s < <(ktap_counts "$1")
	echo "# $2: $p passed, $f failed, $s skipped"
	summary+=("$2: $p passed, $f failed, $s skipped")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
}
# One test case decided by the runner itself.
verdict() { # ok|fail name [detail]
	if [ "$1" = ok ]; then
		echo "  ok - $2"
		total_pass=$((total_pass + 1))
	else
		[ -n "${3:-}" ] && echo "$3" | sed 's/^/  # /'
		echo "  not ok - $2"
		total_fail=$((total_fail + 1))
	fi
}

# --- install and build -----------------------------------------------------

timed deps scripts/deps.sh | tee "$run_dir/deps.log" ||
	{ echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# W=1 here only: a user's make (and DKMS) takes the kernel's own warning
# flags, so that a newer compiler's warning never stops it; here any
# warning fails the run (host_checks: build_w1_warning_free).
build_all() {
	make -s module W=1 2>&1 | tee "$run_dir/module-build.log" &&
		make -s selftests &&
		make -s tools 2>&1 | tee "$run_dir/tools-build.log"
}
timed build build_all || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# The accelerator, probed once for the run (vm.sh reuses the verdict).
# A guest under TCG is one host thread, under KVM one per vCPU (2): as
# many guests at once as that leaves a core each.
vmlinuz61=$(scripts/kernel.sh fetch 6.1 | sed -n 's/^VMLINUZ=//p')
accel=$(scripts/accel.sh "$vmlinuz61") || accel=tcg
if [ "$accel" = kvm ]; then
	VM_JOBS=${VM_JOBS:-$((ncpu / 2 > 0 ? ncpu / 2 : 1))}
else
	VM_JOBS=${VM_JOBS:-$ncpu}
fi
echo "# accelerator: $accel, up to $VM_JOBS guests at once"

# Downloads, and the debug kernel build, in the background from here on:
# the build at the lowest priority, so that it takes only what the
# guests leave idle and does not change their timing.
declare -A bg_pid
for k in $KERNELS; do
	case $k in
	6.12 | 7.2)
		bg_timed "fetch_$k" "$run_dir/fetch-$k.log" scripts/kernel.sh fetch "$k"
		bg_pid[fetch_$k]=$!
		;;
	debug)
		bg_timed debug_kernel_build "$run_dir/debug-kernel.log" \
			nice -n 19 scripts/debug-kernel.sh
		bg_pid[debug]=$!
		;;
	esac
done

# Wait for a background job of this shell; prints its log tail on failure.
wait_bg() { # key log
	local pid=${bg_pid[$1]:-} t0 rc
	[ -n "$pid" ] || return 0
	t0=$(now)
	wait "$pid"
	rc=$?
	phase_done "wait_$1" $(($(now) - t0))
	unset "bg_pid[$1]"
	[ $rc -eq 0 ] || tail -n 20 "$2" | sed 's/^/  # /'
	return $rc
}

# --- host checks -----------------------------------------------------------

host_checks() {
	local n=0
	echo "# selftest: host_checks"
	check() { # name, then the command
		local name=$1
		shift
		n=$((n + 1))
		if "$@" >"$run_dir/$name.log" 2>&1; then
			echo "  ok $n $name"
		else
			sed 's/^/  # /' "$run_dir/$name.log" | head -n 30
			echo "  not ok $n $name"
		fi
	}
	check build_w1_warning_free bash -c "! grep -E 'warning:|error:' '$run_dir/module-build.log'"
	check tools_warning_free bash -c "! grep -E 'warning:|error:' '$run_dir/tools-build.log'"
	check checkpatch_strict scripts/style.sh
	check sparse_clean bash -c 'make sparse 2>&1 | tee /dev/stderr | { ! grep -E "(warning|error):"; }'
	check api_break_fails_build scripts/api-break.sh
	check module_layers_one_way scripts/layers.sh
	check man_options_table scripts/options.sh
}
timed host_checks host_checks >"$run_dir/host-checks.log"
cat "$run_dir/host-checks.log"
tally "$run_dir/host-checks.log" host

# The runner's own tests: the accelerator probe and its fallback.  A
# runner test program that dies part-way is a failure, not fewer cases.
timed runner scripts/test-runner.sh >"$run_dir/runner.raw" 2>&1
runner_rc=$?
{
	echo "# selftest: runner"
	sed 's/^/  /' "$run_dir/runner.raw"
	if [ $runner_rc -ne 0 ] && ! grep -q '^not ok' "$run_dir/runner.raw"; then
		echo "  not ok 99 test-runner.sh exited with status $runner_rc"
	fi
} >"$run_dir/runner.log"
cat "$run_dir/runner.log"
tally "$run_dir/runner.log" runner

# tcpterm(8): its man page and usage text agree (scripts/test-manpage.sh);
# the family's YNL spec against the kernel's schema and tools and the
# uapi header (scripts/test-ynl.sh).
tool_docs() {
	local t rc
	echo "# selftest: tool_docs"
	for t in test-manpage.sh test-ynl.sh; do
		scripts/$t >"$run_dir/$t.raw" 2>"$run_dir/$t.err"
		rc=$?
		sed 's/^/  /' "$run_dir/$t.raw"
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$run_dir/$t.raw"; then
			echo "  not ok 99 $t exited with status $rc"
		fi
	done
}
timed tool_docs tool_docs >"$run_dir/tool-docs.log"
cat "$run_dir/tool-docs.log"
tally "$run_dir/tool-docs.log" tool_docs

# Packaging: the .debs and lintian, the release tarball built and
# installed as a user would, tcpterm-dkms installed here and built by
# DKMS for the Debian 6.1 kernel, the 6.1 guest booted with that module,
# then purged (scripts/test-packaging.sh).  Dying part-way is a failure.
PACKAGING_OUT=$run_dir/packaging timed packaging scripts/test-packaging.sh \
	>"$run_dir/packaging.raw" 2>&1
packaging_rc=$?
{
	echo "# selftest: packaging"
	sed 's/^/  /' "$run_dir/packaging.raw"
	if [ $packaging_rc -ne 0 ] && ! grep -q '^not ok' "$run_dir/packaging.raw"; then
		echo "  not ok 99 test-packaging.sh exited with status $packaging_rc"
	fi
} >"$run_dir/packaging.log"
cat "$run_dir/packaging.log"
tally "$run_dir/packaging.log" packaging

# --- guests ----------------------------------------------------------------

# Build the module for a kernel of the matrix; sets ko.  The W=1 build
# must be warning-free.
module_for() { # kernel
	local log=$run_dir/mod-$1.log tree
	ko=
	case $1 in
	6.1)
		ko=$top/module/tcpterm.ko
		;;
	6.12 | 7.2)
		if ! wait_bg "fetch_$1" "$run_dir/fetch-$1.log"; then
			verdict fail "fetch_kernel_$1"
			return 1
		fi
		verdict ok "fetch_kernel_$1"
		scripts/kernel.sh build "$1" "$top/build/mod-$1" >"$run_dir/mod-$1.out" 2>"$log"
		ko=$(tail -n1 "$run_dir/mod-$1.out")
		if [ ! -f "$ko" ] || grep -qiE "warning:|error:" "$log"; then
			verdict fail "build_w1_warning_free_$1" "$(grep -iE 'warning:|error:' "$log" | head -n 20)"
			return 1
		fi
		verdict ok "build_w1_warning_free_$1"
		;;
	debug2 | debug3)
		# The rest of the debug suite: the same kernel and module.
		[ -n "${debug_tree:-}" ] || module_for debug || return 1
		ko=$top/build/debug-mod/module/tcpterm.ko
		;;
	debug)
		[ -n "${debug_tree:-}" ] && { ko=$top/build/debug-mod/module/tcpterm.ko; return 0; }
		if ! wait_bg debug "$run_dir/debug-kernel.log"; then
			verdict fail debug_kernel_build
			return 1
		fi
		tree=$(tail -n1 "$run_dir/debug-kernel.log")
		mkdir -p "$top/build/debug-mod"
		cp -a --update Kbuild module uapi "$top/build/debug-mod/"
		# With fault injection (module/fault.h): the debug build only.
		if ! make -s -C "$tree" M="$top/build/debug-mod" \
			TCPTERM_FAULT_INJECT=1 modules >"$log" 2>&1; then
			verdict fail debug_module_build "$(tail -n 20 "$log")"
			return 1
		fi
		verdict ok debug_kernel_build
		ko=$top/build/debug-mod/module/tcpterm.ko
		debug_tree=$tree
		;;
	esac
}

# Run one guest; its run directory goes to $run_dir/guest-$k.dir.
guest() { # kernel, env...
	local k=$1 t0
	shift
	t0=$(now)
	env "$@" scripts/vm.sh test 2>"$run_dir/guest-$k.err" | tail -n1 >"$run_dir/guest-$k.dir"
	phase_done "guest_$k" $(($(now) - t0))
}

splat='BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection|possible recursive locking|inconsistent lock state|possible circular locking|suspicious RCU usage|self-detected stall|RCU stall|Kernel panic|list_add corruption|list_del corruption|refcount_t:|kmemleak:.*suspected'

# What a guest that died was doing: the last program started, and the
# last case that program started.
last_running() { # result.log
	ktap_last_running "$1"
}

report_guest() { # kernel
	local k=$1 run
	run=$(cat "$run_dir/guest-$k.dir" 2>/dev/null)
	if [ ! -d "$run" ]; then
		verdict fail "vm_runner_$k" "$(tail -n 5 "$run_dir/guest-$k.err")"
		return
	fi
	cat "$run/result.log"
	tally "$run/result.log" "$k"
	grep -E '^# time: ' "$run/result.log" | sed "s/^# time: \([^ ]*\) \([0-9]*\)s/guest_$k:\1\t\2/" >>"$phases"
	if ! grep -q '^TCPTERM-VM-DONE' "$run/result.log"; then
		echo "not ok: the $k VM did not finish; it was running $(last_running "$run/result.log") (see $run/console.log)"
		total_fail=$((total_fail + 1))
	fi
	if grep -E "$splat" "$run/console.log" >"$run/splats.txt"; then
		echo "not ok: kernel splat in the $k guest log, while running $(last_running "$run/result.log"):"
		sed 's/^/#   /' "$run/splats.txt" | head -n 40
		total_fail=$((total_fail + 1))
	fi
	echo "# $k kernel log: $run/console.log"
}

# Those of the given pids that still run.
running() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && echo "$p"
	done
}

started=()
guest_pids=()
for k in $KERNELS; do
	echo "# kernel: $k"
	case $k in
	6.1 | 6.12 | 7.2 | debug | debug2 | debug3) ;;
	*) verdict fail "unknown_kernel_$k"; continue ;;
	esac
	module_for "$k" || continue
	envs=(KERNEL="$k" KO="$ko")
	case $k in
	debug) envs+=(DEBUG_TREE="$debug_tree" SUITE="$DEBUG_SUITE") ;;
	debug2 | debug3)
		# make check-full runs everything in the first debug guest.
		[ "$DEBUG_SUITE" = full ] && continue
		envs=(KERNEL=debug KO="$ko" DEBUG_TREE="$debug_tree" SUITE="$k")
		;;
	esac
	if [ "$VM_JOBS" -gt 1 ]; then
		while live=($(running ${guest_pids[@]+"${guest_pids[@]}"})) &&
			[ ${#live[@]} -ge "$VM_JOBS" ]; do
			wait -n "${live[@]}"
		done
		guest "$k" "${envs[@]}" &
		guest_pids+=($!)
	else
		guest "$k" "${envs[@]}"
	fi
	started+=("$k")
done
# Every background job of this shell: guests, and fetches or builds no
# guest needed.
wait

for k in ${started[@]+"${started[@]}"}; do
	echo "# guest: $k"
	report_guest "$k"
done

# --- time ------------------------------------------------------------------

total=$(($(now) - run_t0))
# Fresh: packages were installed or the debug kernel was built by this run.
fresh=warm
grep -q '^debug-kernel: building' "$run_dir/debug-kernel.log" 2>/dev/null && fresh=fresh
grep -q '^deps: installing' "$run_dir/deps.log" 2>/dev/null && fresh=fresh
limit=$budget_warm
[ $fresh = fresh ] && limit=$budget_fresh
accel=$(cat "$ACCEL_CACHE" 2>/dev/null || echo "?")
{
	echo "# time per phase (s), budget for a fresh 2-core TCG machine:"
	while IFS=$'\t' read -r name secs; do
		b=${budget[$name]:-}
		printf '#   %-34s %6s %s\n' "$name" "$secs" "${b:+/ $b}"
	done <"$phases"
	printf '#   %-34s %6s / %s (%s caches, %s)\n' total "$total" "$limit" "$fresh" "$accel"
} | tee "$run_dir/time.txt"
while IFS=$'\t' read -r name secs; do
	b=${budget[$name]:-}
	if [ -n "$b" ] && [ "$secs" -gt "$b" ]; then
		echo "# warning: phase $name took ${secs}s, over its budget of ${b}s"
	fi
done <"$phases"
[ "$total" -gt "$limit" ] &&
	echo "# warning: the run took ${total}s, over the ${limit}s budget for $fresh caches"

echo "# results per kernel:"
for line in ${summary[@]+"${summary[@]}"}; do
	echo "#   $line"
done
echo "# logs: $run_dir"
if [ $((total_pass + total_fail)) -eq 0 ]; then
	echo "no test ran"
	total_fail=1
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
