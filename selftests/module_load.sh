#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Module life cycle: repeated insert/remove, a second insert, and the
# socket option appearing and disappearing with the module.
#
#   init namespace only (no topology):
#   +---------------------------------------------+
#   | insmod / rmmod tcpterm.ko                    |
#   | tcpterm_probe: is SOL_TCPTERM answered?      |
#   | /proc/net/tcpterm, kernel.ftrace_enabled     |
#   +---------------------------------------------+
#
# The selftests after this one need tcpterm: whatever a case did, the
# cleanup leaves it loaded, with ftrace_enabled back at 1.
. "$(dirname "$0")/lib.sh"

PROBE=$(dirname "$0")/tcpterm_probe
FTRACE_ENABLED=/proc/sys/kernel/ftrace_enabled

setup() {
	[ -r "$KO" ] || fail "no module at $KO"
	[ -x "$PROBE" ] || fail "no $PROBE"
}

cleanup() {
	[ ! -w $FTRACE_ENABLED ] || echo 1 >$FTRACE_ENABLED
	loaded || insmod "$KO" || log "cleanup: insmod $KO failed"
}

insert_remove_3x() {
	if loaded; then rmmod tcpterm || fail "initial rmmod"; fi
	for i in 1 2 3; do
		insmod "$KO" || fail "insmod #$i"
		loaded || fail "not in /proc/modules after insmod #$i"
		[ -r /proc/net/tcpterm ] || fail "/proc/net/tcpterm missing"
		$PROBE present || fail "option level not answered after insmod #$i"
		rmmod tcpterm || fail "rmmod #$i"
		loaded && fail "still loaded after rmmod #$i"
		[ -e /proc/net/tcpterm ] && fail "/proc/net/tcpterm left behind"
		$PROBE absent || fail "option level still answered after rmmod #$i"
	done
	insmod "$KO" || fail "final insmod"
}

double_insmod_fails() {
	loaded || insmod "$KO" || fail "insmod"
	out=$(insmod "$KO" 2>&1) && fail "second insmod succeeded"
	log "second insmod: $out"
	echo "$out" | grep -qi 'exists' || fail "unexpected error: $out"
	loaded || fail "first instance gone"
	$PROBE present || fail "first instance no longer answers"
}

# kernel.ftrace_enabled=0 would switch every hook off without a word:
# while tcpterm is loaded the sysctl cannot be cleared, and with it
# cleared the module refuses to load.
ftrace_enabled_is_kept() {
	f=$FTRACE_ENABLED
	[ -w $f ] || return $KSFT_SKIP
	loaded || insmod "$KO" || fail "insmod"
	echo 0 >$f 2>/dev/null && { echo 1 >$f; fail "ftrace_enabled cleared while loaded"; }
	[ "$(cat $f)" = 1 ] || fail "ftrace_enabled is $(cat $f)"
	$PROBE present || fail "option level gone"
	rmmod tcpterm || fail "rmmod"
	echo 0 >$f || fail "clearing ftrace_enabled without tcpterm"
	out=$(insmod "$KO" 2>&1) && { echo 1 >$f; fail "insmod with ftrace_enabled=0 succeeded"; }
	log "insmod with ftrace_enabled=0: $out"
	dmesg | tail -n 5 | grep -q 'ftrace_enabled is 0' || { echo 1 >$f; fail "no clear message"; }
	echo 1 >$f
	insmod "$KO" || fail "insmod after ftrace_enabled=1"
}

trap_cleanup
setup
ktap_plan 3
ktap_run insert_remove_3x
ktap_run double_insmod_fails
ktap_run ftrace_enabled_is_kept
ktap_finish
