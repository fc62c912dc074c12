#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers for the tcpterm selftests: KTAP output.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

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
	0) ktap_pass=$((ktap_pass + 1)); echo "ok $ktap_n $2" ;;
	4) ktap_skip=$((ktap_skip + 1)); echo "ok $ktap_n $2 # SKIP" ;;
	*) ktap_fail=$((ktap_fail + 1)); echo "not ok $ktap_n $2" ;;
	esac
}

# Run "$@" as one test case named $1 (the function name).
ktap_run() {
	echo "# RUN $1"
	( "$@" )
	ktap_result $? "$1"
}

ktap_finish() {
	echo "# totals: pass:$ktap_pass fail:$ktap_fail skip:$ktap_skip"
	[ $ktap_fail -eq 0 ] || exit $KSFT_FAIL
	[ $ktap_pass -gt 0 ] || exit $KSFT_SKIP
	exit $KSFT_PASS
}

log() { echo "# $*"; }
fail() { echo "# FAIL: $*"; exit $KSFT_FAIL; }
