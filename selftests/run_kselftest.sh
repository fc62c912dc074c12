#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every tcpterm selftest, kselftest style: one top-level KTAP result
# per program with the program's own KTAP nested (indented) below it,
# then a check of the kernel log.  Meant for the test VM (as root, with
# TCPTERM_KO pointing at the module), but runs on any host like it.
cd "$(dirname "$0")" || exit 1
export TCPTERM_KO=${TCPTERM_KO:-/tcpterm.ko}

# The suites, in one place.  "full" runs on every release kernel.  The
# debug kernel (KASAN, lockdep and kmemleak; under emulation about ten
# times slower) runs all of it but the tool, the zero-cost check and the
# benchmark smoke (release-kernel matters), in three guests: "debug"
# (load and unload, churn, the drains), "debug2" (the HALF_DUPLEX policy
# and the option interface on the wire, fault injection; namespace
# defaults, rules and unload with them) and "debug3"
# (FIN crossings and hostile input).  make check-full runs "full" in one
# debug guest.  tcpterm_notice is in none of the three: the debug kernel
# has no cgroup BPF, so the module built for it has no notices.
suite_full="module_load.sh tcpterm_zerocost.sh tcpterm_sockopt tcpterm_ns tcpterm_crossing tcpterm_drain tcpterm_notice tcpterm_hostile tcpterm_fuzz tcpterm_stress tcpterm_reload tcpterm_tool.sh bench_smoke.sh"
suite_debug="module_load.sh tcpterm_drain tcpterm_fuzz tcpterm_stress tcpterm_reload"
suite_debug2="module_load.sh tcpterm_sockopt tcpterm_ns"
suite_debug3="module_load.sh tcpterm_crossing tcpterm_hostile"
case ${TCPTERM_SUITE:-full} in
debug) progs=$suite_debug ;;
debug2) progs=$suite_debug2 ;;
debug3) progs=$suite_debug3 ;;
*) progs=$suite_full ;;
esac
filter=
# TCPTERM_ONLY=PROGRAM[:FILTER]: one program, or its cases matching FILTER
# (for a C program on the kernel harness, a substring of the case's
# FIXTURE.VARIANT.TEST, see harness.h; tcpterm_reload takes HOOK[,CYCLES]).
if [ -n "${TCPTERM_ONLY:-}" ]; then
	progs=${TCPTERM_ONLY%%:*}
	case $TCPTERM_ONLY in *:*) filter=${TCPTERM_ONLY#*:} ;; esac
	grep -q '^tcpterm ' /proc/modules || insmod "$TCPTERM_KO"
fi

# What the kernel prints when something is wrong (not words that merely
# contain them, like "RCU lockdep checking is enabled").
SPLAT='BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection|possible recursive locking|inconsistent lock state|possible circular locking|suspicious RCU usage|rcu_sched self-detected stall|RCU stall|kmemleak:.*new suspected|Kernel panic|list_add corruption|list_del corruption|refcount_t:'

kmemleak=/sys/kernel/debug/kmemleak
if [ -w $kmemleak ]; then
	# The debug kernel: forget what the kernel itself left before the
	# tests started, and allow it more time for everything.
	echo clear >$kmemleak
	export TCPTERM_TIME_SCALE=${TCPTERM_TIME_SCALE:-5}
	export TCPTERM_STRESS_CONNS=${TCPTERM_STRESS_CONNS:-150}
fi

count=0
for p in $progs; do count=$((count + 1)); done
echo "KTAP version 1"
echo "1..$((count + 1))"

n=0
for p in $progs; do
	n=$((n + 1))
	echo "# selftest: $p"
	t0=$(date +%s)
	# Streamed, not buffered: if the guest dies, the log shows how far
	# the program got.
	{
		./$p $filter 2>&1
		echo $? >/tmp/ksft.rc
	} | tee /tmp/ksft.out | sed 's/^/  /'
	rc=$(cat /tmp/ksft.rc)
	t1=$(date +%s)
	if [ $rc -ne 0 ] && [ $rc -ne 4 ] && ! grep -q '^not ok' /tmp/ksft.out; then
		echo "  not ok 999 $p exited with status $rc"
	fi
	case $rc in
	0) echo "ok $n selftests: $p" ;;
	4) echo "ok $n selftests: $p # SKIP" ;;
	*) echo "not ok $n selftests: $p # exit=$rc" ;;
	esac
	echo "# time: $p $((t1 - t0))s"
done

n=$((n + 1))
echo "# selftest: kernel_log"
echo "  KTAP version 1"
echo "  1..2"
bad=0
if dmesg | grep -E "$SPLAT" >/tmp/splat; then
	sed 's/^/  # /' /tmp/splat
	echo "  not ok 1 kernel_log_clean"
	bad=1
else
	echo "  ok 1 kernel_log_clean"
fi
if [ -w $kmemleak ]; then
	# Objects must be unreferenced for a while and over two scans.
	rmmod tcpterm 2>/dev/null
	sleep 6
	echo scan >$kmemleak
	sleep 6
	echo scan >$kmemleak
	cat $kmemleak >/tmp/leaks
	if [ -s /tmp/leaks ]; then
		sed 's/^/  # /' /tmp/leaks | head -n 60
		echo "  not ok 2 kmemleak_clean"
		bad=1
	else
		echo "  ok 2 kmemleak_clean"
	fi
else
	echo "  ok 2 kmemleak_clean # SKIP no kmemleak in this kernel"
fi
if [ $bad -eq 0 ]; then
	echo "ok $n selftests: kernel_log"
else
	echo "not ok $n selftests: kernel_log"
fi
