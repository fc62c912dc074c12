#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers for the tcpterm selftests, on the conventions of the
# kernel's tools/testing/selftests/net/lib.sh:
#
# - kselftest exit codes: KSFT_PASS 0, KSFT_FAIL 1, KSFT_SKIP 4;
# - a script draws its topology at the top, and has a setup() and a
#   cleanup() of its own; it calls "trap cleanup EXIT" (trap_cleanup
#   below) before setup, so that cleanup runs however it ends: a case
#   failed, a command failed, a signal;
# - each case is a shell function that ktap_run runs in a subshell: it
#   fails with fail (KSFT_FAIL), skips with "return $KSFT_SKIP", or
#   passes; one KTAP result line per case;
# - at the end a "# Totals: ..." line as kselftest.h prints it, and the
#   script's exit code (ktap_finish).

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KO=${TCPTERM_KO:-/tcpterm.ko}

ktap_n=0
ktap_pass=0
ktap_fail=0
ktap_skip=0

ktap_plan() {
	echo "KTAP version 1"
	echo "1..$1"
}

ktap_result() { # rc name
	ktap_n=$((ktap_n + 1))
	case $1 in
	"$KSFT_PASS") ktap_pass=$((ktap_pass + 1)); echo "ok $ktap_n $2" ;;
	"$KSFT_SKIP") ktap_skip=$((ktap_skip + 1)); echo "ok $ktap_n $2 # SKIP" ;;
	*) ktap_fail=$((ktap_fail + 1)); echo "not ok $ktap_n $2" ;;
	esac
}

# Run "$@" as one test case named $1 (the function name).
ktap_run() {
	echo "# RUN $1"
	( "$@" )
	ktap_result $? "$1"
}

# The totals, then exit: fail if a case failed, skip if none passed.
ktap_finish() {
	echo "# Totals: pass:$ktap_pass fail:$ktap_fail xfail:0 xpass:0 skip:$ktap_skip error:0"
	[ $ktap_fail -eq 0 ] || exit $KSFT_FAIL
	[ $ktap_pass -gt 0 ] || exit $KSFT_SKIP
	exit $KSFT_PASS
}

# cleanup() at exit, and on a signal (which then fails the script).
trap_cleanup() {
	trap cleanup EXIT
	trap 'exit $KSFT_FAIL' HUP INT TERM
}

log() { echo "# $*"; }
fail() { echo "# FAIL: $*"; exit $KSFT_FAIL; }

loaded() { grep -q '^tcpterm ' /proc/modules; }

# setup: note whether tcpterm is loaded; cleanup: leave it so again.
module_state_save() {
	tt_was_loaded=0
	loaded && tt_was_loaded=1
}

module_state_restore() {
	if [ "${tt_was_loaded:-1}" -eq 1 ]; then
		loaded || insmod "$KO" || log "cleanup: insmod $KO failed"
	elif loaded; then
		rmmod tcpterm || log "cleanup: rmmod tcpterm failed"
	fi
}
