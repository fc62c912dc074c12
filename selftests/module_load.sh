#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Module life cycle: repeated insert/remove, a second insert, and the
# socket option appearing and disappearing with the module.
#
#   (no topology: runs in the init namespace)
. "$(dirname "$0")/lib.sh"

KO=${TCPTERM_KO:-/tcpterm.ko}
PROBE=$(dirname "$0")/tcpterm_probe

loaded() { grep -q '^tcpterm ' /proc/modules; }

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

ktap_plan 2
ktap_run insert_remove_3x
ktap_run double_insmod_fails
ktap_finish
