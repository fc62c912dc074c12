#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Zero cost for sockets without a policy: with tcpterm loaded and no
# policy anywhere, a bulk transfer and a request/response exchange run no
# tcpterm code, and no function every segment passes through carries a
# tcpterm callback.
#
#   netns tt-cli-PID-1                    netns tt-srv-PID-1
#   +-------------------+               +-------------------+
#   | veth0 10.77.0.1   |<------------->| veth1 10.77.0.2   |
#   |       fd77::1     |               |       fd77::2     |
#   +-------------------+               +-------------------+
#     over IPv4, then IPv6, on connections opened beforehand:
#     bulk  1 MiB client -> server
#     rr    100 x (64 bytes request, 64 bytes response)
#
# What tcpterm attached is what insmod added to enabled_functions (ftrace
# callbacks, kprobes on ftrace sites) and to the kprobes list.  The
# function tracer then traces every traceable function of the module and
# every kernel function tcpterm attached to (a call of one runs its
# callback, which ftrace cannot show, being notrace), while the workload
# (tcpterm_bench zerocost) writes its phases into trace_marker:
#
#   setup    namespaces, listeners, connect, accept
#   data     the transfers, until every byte is acknowledged (+300 ms)
#   close    close() of every socket, then 1 s for the teardown
#   control  one setsockopt(SOL_TCPTERM): tcpterm code that must show,
#            or the tracer is blind to the module and zero means nothing;
#            the workload copies enabled_functions while that socket is
#            open (the hooks a tracked socket attaches)
#   end      the workload exits (its namespaces go)
#
# The data phase must show no call at all.  In setup and close, every
# function seen must be named in ZC_SETUP_CLOSE below: the option calls
# and tcpterm's namespace setup and teardown, nothing per connection.
# (Control and end belong to the one policied socket: in end the gate
# it opened still lingers, so the workload's namespace teardown there is
# not held to the list.  Tracepoint
# probes are seen through the module's own functions only: a notrace
# probe would go unseen.)  insmod must attach the option calls alone;
# the control's socket attaches the rest, which goes again after it.
# Last, a namespace of the test's own sets net.tcpterm.policy, then
# watch_all: each attaches the rest at once, and taking it back lets
# it go.
# The cases run through ktap_run; the cleanup switches the tracer off and
# leaves tcpterm loaded or not, as it was found.
# shellcheck disable=SC2317 source=selftests/lib.sh
. "$(dirname "$0")/lib.sh"

BENCH=$(cd "$(dirname "$0")" && pwd)/tcpterm_bench
T=/sys/kernel/tracing
KPROBES=/sys/kernel/debug/kprobes/list

# Functions every segment of an established connection, every read or
# every write passes through (those the kernel does not inline).  A
# callback on one costs every socket on its data path.
ZC_PER_SEGMENT="tcp_v4_rcv tcp_v6_rcv tcp_v4_do_rcv tcp_v6_do_rcv
tcp_add_backlog tcp_filter tcp_rcv_established tcp_validate_incoming
tcp_ack tcp_data_queue tcp_queue_rcv tcp_event_data_recv tcp_data_ready
tcp_ofo_queue tcp_rcv_space_adjust tcp_cleanup_rbuf tcp_recvmsg
tcp_recvmsg_locked tcp_read_sock tcp_sendmsg tcp_sendmsg_locked tcp_push
tcp_write_xmit __tcp_transmit_skb tcp_send_ack __tcp_send_ack
tcp_release_cb tcp_check_space tcp_poll tcp_v4_send_check
tcp_v6_send_check ip_queue_xmit inet6_csk_xmit inet_recvmsg inet_sendmsg
inet6_recvmsg inet6_sendmsg sock_recvmsg sock_sendmsg tcp_stream_memory_free"

# What insmod may attach on a host with no policy anywhere: the option
# calls, system calls where a socket asks for tcpterm.  Everything else
# (tcp_reset, the child observers, the state-change tracepoint) is
# attached only while some socket is tracked or some namespace has
# rules, defaults or watch_all (module/gate.c).
ZC_IDLE_SITES="tcp_getsockopt tcp_setsockopt"
# What the gate attaches besides (the tracepoint probe is not listed in
# enabled_functions: not checked here).
ZC_GATED_SITES="tcp_reset inet_csk_complete_hashdance inet_csk_reqsk_queue_add"

# What may run outside the data phase, by name: the option calls, and
# tcpterm's namespace setup and teardown (the workload's namespaces are
# born and die there).  Nothing per connection.  A new name is allowed
# only once someone can say why it runs for a socket without a policy.
ZC_SETUP_CLOSE="$ZC_IDLE_SITES tcpterm_net_init tcpterm_net_exit
tcpterm_ns_net_init tcpterm_ns_net_exit tcpterm_sysctl_register
tcpterm_rules_flush tcpterm_ns_update tcpterm_ns_watch_set"

setup() {
	module_state_save
	tmp=$(mktemp -d) || fail "mktemp"
}

cleanup() {
	if [ -w "$T/current_tracer" ]; then
		echo nop >"$T/current_tracer"
		echo >"$T/set_ftrace_filter"
	fi
	module_state_restore
	[ -z "${tmp:-}" ] || rm -rf "$tmp"
}

kprobes() { [ -r "$KPROBES" ] && cat "$KPROBES"; true; }

# "name count" of every ftrace site in a copy of enabled_functions.
sites_of() {
	awk '{ for (i = 2; i <= NF; i++)
		       if ($i ~ /^\([0-9]+\)$/) { gsub(/[()]/, "", $i); break }
	       print $1, $i }' "$1"
}

# Lines of file $2 that are not in file $1.
only_in() { awk 'FILENAME == ARGV[1] { a[$0] = 1; next } !($0 in a)' "$1" "$2"; }

# The functions tcpterm attached to: ftrace sites with more users in the
# second snapshot than in the first, and new kprobes.
sites_added() { # before after kprobes-before kprobes-after
	sites_of "$1" >"$tmp/s1"
	sites_of "$2" >"$tmp/s2"
	awk 'FILENAME == ARGV[1] { n[$1] = $2; next } $2 > n[$1] + 0 { print $1 }' \
		"$tmp/s1" "$tmp/s2"
	awk '{ f = $3; sub(/\+.*/, "", f); print f }' "$4" | sort >"$tmp/k2"
	awk '{ f = $3; sub(/\+.*/, "", f); print f }' "$3" | sort >"$tmp/k1"
	only_in "$tmp/k1" "$tmp/k2"
}

tracing_reset() {
	echo 0 >"$T/tracing_on"
	echo nop >"$T/current_tracer"
	echo >"$T/set_ftrace_filter"
	echo local >"$T/trace_clock"
	echo 1408 >"$T/buffer_size_kb"
	echo >"$T/trace"
	echo 1 >"$T/tracing_on"
}

# Everything the cases look at, in $tmp; diagnostics on stdout.
prepare() {
	if [ ! -w "$T/set_ftrace_filter" ] || [ ! -w "$T/trace_marker" ]; then
		echo "no tracefs with the function tracer at $T" >"$tmp/skip"
		return
	fi
	if loaded; then
		rmmod tcpterm || { echo "rmmod tcpterm failed" >"$tmp/error"; return; }
	fi
	for f in $ZC_IDLE_SITES; do echo "$f"; done | sort >"$tmp/idle"
	cat "$T/enabled_functions" >"$tmp/ef0"
	kprobes >"$tmp/kp0"
	insmod "$KO" || { echo "insmod $KO failed" >"$tmp/error"; return; }
	cat "$T/enabled_functions" >"$tmp/ef1"
	kprobes >"$tmp/kp1"
	sites_added "$tmp/ef0" "$tmp/ef1" "$tmp/kp0" "$tmp/kp1" |
		sort -u >"$tmp/sites"
	log "insmod attached tcpterm to $(wc -l <"$tmp/sites") kernel functions:"
	while read -r s; do
		line=$(grep "^$s " "$tmp/ef1" | head -n1)
		log "  ${line:-$s (kprobe)}"
	done <"$tmp/sites"

	tracing_reset
	echo 0 >"$T/tracing_on"
	echo global >"$T/trace_clock"
	echo 4096 >"$T/buffer_size_kb"
	echo ':mod:tcpterm' >"$T/set_ftrace_filter" ||
		log "tcpterm has no traceable function"
	while read -r s; do
		echo "$s" >>"$T/set_ftrace_filter" || log "cannot trace $s"
	done <"$tmp/sites"
	# (tracefs files have no size; an empty filter traces everything)
	cat "$T/set_ftrace_filter" >"$tmp/filter"
	if [ ! -s "$tmp/filter" ] || grep -q '^####' "$tmp/filter"; then
		tracing_reset
		echo "nothing to trace" >"$tmp/error"
		return
	fi
	log "tracing $(wc -l <"$tmp/filter") functions"
	echo function >"$T/current_tracer"
	echo >"$T/trace"
	echo 1 >"$T/tracing_on"
	: >"$tmp/sites_ctl"
	"$BENCH" zerocost "$T/trace_marker" "$T/enabled_functions" \
		"$tmp/ef_ctl" >"$tmp/workload" 2>&1
	rc=$?
	echo 0 >"$T/tracing_on"
	cat "$T/trace" >"$tmp/trace"
	tracing_reset
	cat "$T/enabled_functions" >"$tmp/ef2"
	kprobes >"$tmp/kp2"
	sites_added "$tmp/ef0" "$tmp/ef2" "$tmp/kp0" "$tmp/kp2" |
		sort -u >"$tmp/sites2"
	[ -e "$tmp/ef_ctl" ] && sites_added "$tmp/ef0" "$tmp/ef_ctl" \
		"$tmp/kp0" "$tmp/kp2" | sort -u >"$tmp/sites_ctl"
	if [ $rc -ne 0 ]; then
		sed 's/^/# workload: /' "$tmp/workload"
		echo "workload failed ($rc)" >"$tmp/error"
		return
	fi

	# "phase function count", and the events the buffer lost.
	awk -v lost="$tmp/lost" '
		/^#/ {
			if (match($0, /entries-written: [0-9]+\/[0-9]+/)) {
				split(substr($0, RSTART + 17, RLENGTH - 17), e, "/")
				print e[2] - e[1] > lost
			}
			next
		}
		!match($0, / [0-9]+\.[0-9]+: /) { next }
		{
			rest = substr($0, RSTART + RLENGTH)
			split(rest, w, " ")
			if (w[1] == "tracing_mark_write:") {
				if (w[2] == "tcpterm-zc")
					phase = w[3]
				next
			}
			n[(phase == "" ? "setup" : phase) " " w[1]]++
		}
		END { for (k in n) print k, n[k] }' "$tmp/trace" |
		sort >"$tmp/counts"
	lost=$(cat "$tmp/lost" 2>/dev/null || echo unknown)
	log "trace: $(grep -vc '^#' "$tmp/trace") lines, $lost lost; calls per phase:"
	sed 's/^/#   /' "$tmp/counts"
}

# Cases: each fails on what prepare() could not do.
ready() {
	[ -e "$tmp/skip" ] && { log "SKIP: $(cat "$tmp/skip")"; exit "$KSFT_SKIP"; }
	[ -e "$tmp/error" ] && fail "$(cat "$tmp/error")"
	true
}

per_segment_functions_have_no_callback() {
	ready
	bad=0
	for f in $ZC_PER_SEGMENT; do
		if grep -qx "$f" "$tmp/sites" "$tmp/sites2" "$tmp/sites_ctl"; then
			log "tcpterm callback on per-segment function $f:"
			log "  $(cat "$tmp/ef1" "$tmp/ef2" | grep "^$f " | head -n1)"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || fail "per-segment functions carry tcpterm callbacks"
}

tracer_sees_tcpterm_code() {
	ready
	grep ' \[tcpterm\]$' "$T/available_filter_functions" |
		cut -d' ' -f1 | sort -u >"$tmp/modfuncs"
	awk '$1 == "control" { print $2 }' "$tmp/counts" | sort -u >"$tmp/ctl"
	n=$(awk 'FILENAME == ARGV[1] { a[$0] = 1; next } $0 in a' "$tmp/modfuncs" \
		"$tmp/ctl" | wc -l)
	log "control: $n tcpterm functions ran for one setsockopt(SOL_TCPTERM)"
	[ "$n" -gt 0 ] || fail "the tracer saw no tcpterm function run: it cannot count them"
}

data_path_runs_no_tcpterm_code() {
	ready
	lost=$(cat "$tmp/lost" 2>/dev/null || echo unknown)
	[ "$lost" = 0 ] || fail "the trace buffer lost $lost events: counts unknown"
	calls=$(awk '$1 == "data" { n += $3 } END { print n + 0 }' "$tmp/counts")
	if [ "$calls" -ne 0 ]; then
		log "data phase: $calls calls of tcpterm functions and of kernel functions running a tcpterm callback:"
		awk '$1 == "data" { print "#   " $2, $3 }' "$tmp/counts"
		fail "tcpterm code ran on the data path of sockets without a policy"
	fi
}

setup_and_close_calls_are_named() {
	ready
	bad=0
	for f in $ZC_SETUP_CLOSE; do
		echo "$f"
	done >"$tmp/named"
	awk '$1 == "setup" || $1 == "close" { print $2 }' "$tmp/counts" |
		sort -u >"$tmp/outside"
	for f in $(only_in "$tmp/named" "$tmp/outside"); do
		log "unnamed outside the data phase: $f ($(awk -v f="$f" \
			'$2 == f && ($1 == "setup" || $1 == "close") {
				printf "%s%s x%s", s, $1, $3; s = ", " }' \
			"$tmp/counts"))"
		bad=1
	done
	[ "$bad" -eq 0 ] || fail "tcpterm code ran at setup or close where nobody said why"
}

# insmod on an idle host attaches the option calls and nothing else.
idle_module_attaches_only_the_option_calls() {
	ready
	if ! cmp -s "$tmp/idle" "$tmp/sites"; then
		log "insmod attached: $(tr '\n' ' ' <"$tmp/sites")"
		log "expected:        $(tr '\n' ' ' <"$tmp/idle")"
		fail "an idle tcpterm has callbacks beyond the option calls"
	fi
}

# The hooks attached now, relative to insmod, into $tmp/sites_now.
sites_now() {
	cat "$T/enabled_functions" >"$tmp/efn"
	kprobes >"$tmp/kpn"
	sites_added "$tmp/ef0" "$tmp/efn" "$tmp/kp0" "$tmp/kpn" |
		sort -u >"$tmp/sites_now"
}

# Wait for the idle set: the gate lingers a second, then detaches (RCU
# tasks grace periods, slow under TCG): 10 s times TCPTERM_TIME_SCALE.
wait_idle() {
	i=0
	while [ $i -lt $((50 * ${TCPTERM_TIME_SCALE:-1})) ]; do
		sites_now
		cmp -s "$tmp/idle" "$tmp/sites_now" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# Does file $1 list every hook the gate attaches?
all_gated_in() {
	for f in $ZC_GATED_SITES; do
		grep -qx "$f" "$1" || return 1
	done
}

# The control's socket, tracked, held the hooks on shared paths: the
# workload's snapshot is taken 3 s after its setsockopt, when the call's
# own hold has lingered out.  When the socket was gone, they went again.
hooks_come_and_go_with_the_first_policy() {
	ready
	all_gated_in "$tmp/sites_ctl" ||
		fail "a tracked socket did not hold the hooks: $(tr '\n' ' ' <"$tmp/sites_ctl")"
	wait_idle ||
		fail "hooks still attached after the last policy went: $(tr '\n' ' ' <"$tmp/sites_now")"
}

# A namespace's settings hold the hooks: a default policy and
# watch_all each attach them (the sysctl write does) and keep them
# attached, and taking the value back lets them go.
namespace_settings_hold_the_hooks() {
	ready
	ns=tt-zc-ns-$$
	/sbin/ip netns add $ns || fail "ip netns add"
	bad=
	for knob in policy watch_all; do
		wait_idle || bad="hooks attached before $knob was set"
		[ -z "$bad" ] || break
		/sbin/ip netns exec $ns sh -c \
			"echo 1 >/proc/sys/net/tcpterm/$knob" ||
			{ bad="cannot write net.tcpterm.$knob"; break; }
		# Past the write's own hold: only the namespace holds now.
		sleep $((3 * ${TCPTERM_TIME_SCALE:-1}))
		sites_now
		all_gated_in "$tmp/sites_now" ||
			{ bad="net.tcpterm.$knob=1 did not hold the hooks"; break; }
		/sbin/ip netns exec $ns sh -c \
			"echo 0 >/proc/sys/net/tcpterm/$knob" ||
			{ bad="cannot write net.tcpterm.$knob back"; break; }
		wait_idle || { bad="hooks stayed after net.tcpterm.$knob=0"; break; }
	done
	/sbin/ip netns del $ns
	[ -z "$bad" ] || fail "$bad: $(tr '\n' ' ' <"$tmp/sites_now")"
}

# The closing notice observes the function that runs sock_ops programs
# and raises the static key in front of it (notice.c): only while some
# socket or namespace uses notices, not with the gate alone.  A policy
# attaches the gated hooks without it; notice=1 adds it; taking both
# back lets everything go.
ZC_NOTICE_SITE=__cgroup_bpf_run_filter_sock_ops
notice_hook_only_with_notices() {
	ready
	[ -e /sys/module/tcpterm/parameters/notice_exid ] || {
		log "no notices in this kernel (no CONFIG_CGROUP_BPF)"
		exit $KSFT_SKIP
	}
	ns=tt-zc-nt-$$
	/sbin/ip netns add $ns || fail "ip netns add"
	bad=
	w() { /sbin/ip netns exec $ns sh -c "echo $2 >/proc/sys/net/tcpterm/$1"; }
	wait_idle || bad="hooks attached before the test"
	if [ -z "$bad" ]; then
		w policy 1 || bad="cannot write net.tcpterm.policy"
	fi
	if [ -z "$bad" ]; then
		sleep $((3 * ${TCPTERM_TIME_SCALE:-1}))
		sites_now
		all_gated_in "$tmp/sites_now" || bad="policy=1 did not hold the hooks"
		grep -qx $ZC_NOTICE_SITE "$tmp/sites_now" &&
			bad="a policy without notices attached $ZC_NOTICE_SITE"
	fi
	if [ -z "$bad" ]; then
		w notice 1 || bad="cannot write net.tcpterm.notice"
		sites_now
		grep -qx $ZC_NOTICE_SITE "$tmp/sites_now" ||
			bad="notice=1 did not attach $ZC_NOTICE_SITE"
	fi
	if [ -z "$bad" ]; then
		w notice 0 && w policy 0 || bad="cannot write the settings back"
		wait_idle || bad="hooks stayed after notice=0 policy=0"
	fi
	/sbin/ip netns del $ns
	[ -z "$bad" ] || fail "$bad: $(tr '\n' ' ' <"$tmp/sites_now")"
}

trap_cleanup
setup
ktap_plan 8
prepare
ktap_run per_segment_functions_have_no_callback
ktap_run tracer_sees_tcpterm_code
ktap_run data_path_runs_no_tcpterm_code
ktap_run setup_and_close_calls_are_named
ktap_run idle_module_attaches_only_the_option_calls
ktap_run hooks_come_and_go_with_the_first_policy
ktap_run namespace_settings_hold_the_hooks
ktap_run notice_hook_only_with_notices
ktap_finish
