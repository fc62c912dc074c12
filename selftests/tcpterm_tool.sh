#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tcpterm(8) against the module: stats (text and JSON) agree with
# /proc/net/tcpterm and move with a policied connection, monitor catches
# the event of that connection, run puts a policy on an unmodified
# dynamically linked program (seen on the wire), -n selects the
# namespace, rules (add, show, del, flush) put a policy on an unmodified
# program's connections with no tcpterm run, what the module refuses is
# one line with its reason, show lists a tracked connection with the
# cookie ss gives it, and bad input or a missing module gives one line
# and status 1.  The family validates GET_STATS strictly and says why it
# refuses a request (extack); looking the family up loads the module
# (MODULE_ALIAS_GENL_FAMILY, through kernel.modprobe).
#
#   netns ttool-cli-PID                   netns ttool-srv-PID
#   +---------------------+             +---------------------+
#   | veth0 10.78.0.1     |<----------->| veth1 10.78.0.2     |
#   |       fd78::1       |             |       fd78::2       |
#   | tcpterm_unaware     |             | tcpterm_unaware     |
#   |   client            |             |   server :PORT      |
#   +---------------------+             |   (under tcpterm run|
#                                       |    or stock)        |
#                                       | tcpterm -n ... stats|
#                                       |   monitor           |
#                                       +---------------------+
#
# The server waits for the client's 5 bytes, then either ("shut")
# shutdown(SHUT_RD)s with them unread and 300 ms later writes a reply,
# or ("close") writes the reply and close()s with them unread.  "shut":
# stock, the client reads the reply and EOF; with the half-duplex policy
# the shutdown resets the connection (PolicyRsts +1, BytesDiscarded +5,
# one policy-rst event) and the client reads ECONNRESET, over IPv4 and
# IPv6.  "close": stock, the close() resets and the client reads
# ECONNRESET; with the drain policy the client reads the reply and EOF
# (Drains +1).  The namespaces are made with "ip netns add", so that -n
# NAME finds them.
# shellcheck disable=SC2317 source=selftests/lib.sh
. "$(dirname "$0")/lib.sh"

KO=${TCPTERM_KO:-/tcpterm.ko}
DIR=$(cd "$(dirname "$0")" && pwd)
TCPTERM=${TCPTERM:-$(command -v tcpterm || echo /usr/sbin/tcpterm)}
UNAWARE=$DIR/tcpterm_unaware
JSON=$DIR/tcpterm_json
GENL_REQ=$DIR/tcpterm_genl_req
SRV=ttool-srv-$$
CLI=ttool-cli-$$
TMP=/tmp/ttool-$$

loaded() { grep -q '^tcpterm ' /proc/modules; }
# iproute2's ip (netns, veth), not busybox's applet of that name.
ip() { /sbin/ip "$@"; }

setup() {
	ip netns add $SRV && ip netns add $CLI || fail "ip netns add"
	ip -n $CLI link add veth0 type veth peer name veth1 netns $SRV ||
		fail "veth"
	ip -n $CLI addr add 10.78.0.1/24 dev veth0
	ip -n $SRV addr add 10.78.0.2/24 dev veth1
	ip -n $CLI addr add fd78::1/64 dev veth0 nodad
	ip -n $SRV addr add fd78::2/64 dev veth1 nodad
	for ns in $CLI $SRV; do
		ip -n $ns link set lo up
	done
	ip -n $CLI link set veth0 up
	ip -n $SRV link set veth1 up
	mkdir -p $TMP
}

cleanup() {
	ip netns del $SRV 2>/dev/null
	ip netns del $CLI 2>/dev/null
	rm -rf $TMP
}

# One counter of the server namespace, from /proc/net/tcpterm.
proc_stat() { # name
	ip netns exec $SRV cat /proc/net/tcpterm | sed -n "s/^$1 //p"
}

# One connection: the server (under "$@" after MODE, if any) on PORT;
# the client's result line in $TMP/client, the server's in $TMP/server.
# Over IPv4, or IPv6 with XFAM=inet6.
XFAM=
exchange() { # port shut|close [wrapper...]
	port=$1
	mode=$2
	shift 2
	addr=10.78.0.2
	[ "$XFAM" = inet6 ] && addr=fd78::2
	ip netns exec $SRV "$@" $UNAWARE server "$port" $mode $XFAM >$TMP/server 2>&1 &
	spid=$!
	ip netns exec $CLI $UNAWARE client $addr "$port" >$TMP/client 2>&1 ||
		{ kill $spid 2>/dev/null; fail "client: $(cat $TMP/client)"; }
	wait $spid || fail "server: $(cat $TMP/server)"
	log "server: $(cat $TMP/server); client: $(cat $TMP/client)"
}

help_and_bad_input() {
	$TCPTERM help >$TMP/help || fail "help exited $?"
	grep -q '^Usage: tcpterm' $TMP/help || fail "help: $(head -n 1 $TMP/help)"
	for args in "run -p bogus -- true" "run -- true" "run -p drain" \
		"run -p drain true" "run --grace 3600001 -- true" \
		"rule add port 70000 policy drain" "rule add port 0 policy drain" \
		"rule add cgroup relative/path policy drain" \
		"rule add port 80" "rule del" "rule del 0" "rule del 1 2" \
		"rule show extra" "show state bogus" "show port 0" "bogus" \
		"stats extra" "monitor -c 0"; do
		# shellcheck disable=SC2086
		$TCPTERM $args >$TMP/out 2>$TMP/err
		rc=$?
		[ $rc -eq 1 ] || fail "tcpterm $args: status $rc, not 1"
		[ "$(wc -l <$TMP/err)" -eq 1 ] ||
			fail "tcpterm $args: not one line: $(cat $TMP/err)"
		[ -s $TMP/out ] && fail "tcpterm $args wrote to stdout"
	done
	return 0
}

# Text output is /proc/net/tcpterm, line for line; JSON has the same
# values; both of the namespace -n names.
stats_match_proc() {
	$TCPTERM -n $SRV stats >$TMP/text || fail "stats exited $?"
	ip netns exec $SRV cat /proc/net/tcpterm >$TMP/proc
	cmp -s $TMP/text $TMP/proc ||
		fail "stats differs from /proc/net/tcpterm: $(diff $TMP/proc $TMP/text)"
	[ "$(wc -l <$TMP/proc)" -ge 12 ] || fail "only $(wc -l <$TMP/proc) counters"
	$TCPTERM -n $SRV stats -j >$TMP/json || fail "stats -j exited $?"
	[ "$(wc -l <$TMP/json)" -eq 1 ] || fail "stats -j: not one line"
	while read -r name val; do
		got=$($JSON "$name" <$TMP/json) || fail "stats -j: no $name"
		[ "$got" = "$val" ] || fail "stats -j: $name $got, /proc says $val"
	done <$TMP/proc
	return 0
}

# The unmodified program, stock and then under tcpterm run, on the wire.
run_half_duplex_on_wire() {
	grep -q 'ld-linux' $UNAWARE || fail "$UNAWARE is not dynamically linked"
	rsts0=$(proc_stat PolicyRsts)
	disc0=$(proc_stat BytesDiscarded)

	exchange 8001 shut
	grep -qx 'read 6 eof' $TMP/client || fail "stock: client $(cat $TMP/client)"
	grep -qx 'write ok' $TMP/server || fail "stock: server $(cat $TMP/server)"
	[ "$(proc_stat PolicyRsts)" = "$rsts0" ] || fail "stock moved PolicyRsts"

	exchange 8002 shut $TCPTERM -n $SRV run -p half-duplex --
	grep -qx 'read 0 error Connection reset by peer' $TMP/client ||
		fail "half-duplex: client $(cat $TMP/client)"
	grep -q '^write error' $TMP/server || fail "half-duplex: server $(cat $TMP/server)"
	[ "$(proc_stat PolicyRsts)" -eq $((rsts0 + 1)) ] ||
		fail "PolicyRsts $(proc_stat PolicyRsts), expected $((rsts0 + 1))"
	[ "$(proc_stat BytesDiscarded)" -eq $((disc0 + 5)) ] ||
		fail "BytesDiscarded $(proc_stat BytesDiscarded), expected $((disc0 + 5))"
	# And tcpterm stats -j says the same.
	got=$($TCPTERM -n $SRV stats -j | $JSON PolicyRsts BytesDiscarded) ||
		fail "stats -j"
	[ "$got" = "$((rsts0 + 1)) $((disc0 + 5))" ] || fail "stats -j: $got"
}

# The same over IPv6: the library sets the policy on AF_INET6 sockets.
run_half_duplex_inet6() {
	XFAM=inet6
	rsts0=$(proc_stat PolicyRsts)
	exchange 8005 shut
	grep -qx 'read 6 eof' $TMP/client || fail "stock: client $(cat $TMP/client)"
	exchange 8006 shut $TCPTERM -n $SRV run -p half-duplex --
	grep -qx 'read 0 error Connection reset by peer' $TMP/client ||
		fail "half-duplex: client $(cat $TMP/client)"
	[ "$(proc_stat PolicyRsts)" -eq $((rsts0 + 1)) ] ||
		fail "PolicyRsts $(proc_stat PolicyRsts), expected $((rsts0 + 1))"
}

# close() with input unread: stock resets, the drain policy (with its
# limits given on the command line) delivers the reply and a clean end.
run_drain_on_wire() {
	drains0=$(proc_stat Drains)
	exchange 8003 close
	grep -q 'error Connection reset by peer' $TMP/client ||
		fail "stock close: client $(cat $TMP/client)"
	[ "$(proc_stat Drains)" = "$drains0" ] || fail "stock moved Drains"

	rsts0=$(proc_stat PolicyRsts)
	exchange 8004 close $TCPTERM -n $SRV run -p drain --drain-time 2000 \
		--drain-idle 1000 --grace 3000 --
	grep -qx 'read 6 eof' $TMP/client || fail "drain: client $(cat $TMP/client)"
	[ "$(proc_stat Drains)" -eq $((drains0 + 1)) ] ||
		fail "Drains $(proc_stat Drains), expected $((drains0 + 1))"
	[ "$(proc_stat PolicyRsts)" = "$rsts0" ] || fail "drain reset"
}

monitor_json_event() {
	rsts0=$(proc_stat PolicyRsts)
	$TCPTERM -n $SRV monitor -c 1 -j >$TMP/mon 2>$TMP/mon.err &
	mpid=$!
	# The same in text, until SIGINT.
	$TCPTERM -n $SRV monitor >$TMP/mon.txt 2>&1 &
	tpid=$!
	# The monitors may not have joined yet: a new connection each time
	# until the JSON one has printed its one event.
	port=8010
	while [ $port -lt 8014 ] && kill -0 $mpid 2>/dev/null; do
		sleep 1
		exchange $port shut $TCPTERM -n $SRV run -p half-duplex --
		port=$((port + 1))
		sleep 1
	done
	kill -INT $tpid
	wait $tpid
	trc=$?
	kill -0 $mpid 2>/dev/null && { kill $mpid; fail "monitor -c 1 did not end"; }
	wait $mpid || fail "monitor exited $?: $(cat $TMP/mon.err)"
	[ $trc -eq 0 ] || fail "monitor exited $trc on SIGINT: $(cat $TMP/mon.txt)"
	log "monitor (text): $(head -n 1 $TMP/mon.txt)"
	grep -Eq '^policy-rst 10\.78\.0\.2:80[0-9]+ 10\.78\.0\.1:[0-9]+ sk:[0-9a-f]+ reason unread-on-shutdown netns [0-9]+$' \
		$TMP/mon.txt || fail "monitor (text): $(cat $TMP/mon.txt)"
	grep -qv '^policy-rst ' $TMP/mon.txt && fail "monitor (text): $(cat $TMP/mon.txt)"
	[ "$(wc -l <$TMP/mon)" -eq 1 ] || fail "monitor printed $(wc -l <$TMP/mon) lines"
	log "monitor: $(cat $TMP/mon)"
	got=$($JSON event reason family saddr daddr state sport cookie <$TMP/mon) ||
		fail "monitor -j: $(cat $TMP/mon)"
	set -- $got
	[ "$1 $2 $3 $4 $5 $6" = "policy-rst unread-on-shutdown inet 10.78.0.2 10.78.0.1 established" ] ||
		fail "event: $got"
	[ "$7" -ge 8010 ] && [ "$7" -lt $port ] || fail "event port $7"
	echo "$8" | grep -Eqx '[0-9a-f]+' || fail "event cookie '$8'"
	ino=$($JSON netns <$TMP/mon)
	[ "$ino" = "$(ip netns exec $SRV stat -L -c %i /proc/self/ns/net)" ] ||
		fail "netns $ino"
	# Every connection was reset and counted; none of the events was
	# dropped.
	[ "$(proc_stat PolicyRsts)" -eq $((rsts0 + port - 8010)) ] ||
		fail "PolicyRsts $(proc_stat PolicyRsts) after $((port - 8010)) connections"
	[ "$(proc_stat EventsDropped)" = 0 ] || fail "events dropped"
}

# -n: each namespace its own counters; a name that does not exist fails.
netns_selects() {
	a=$($TCPTERM -n $SRV stats -j | $JSON PolicyRsts) || fail "stats -n $SRV"
	b=$($TCPTERM -n $CLI stats -j | $JSON PolicyRsts) || fail "stats -n $CLI"
	[ "$a" -gt 0 ] || fail "no PolicyRsts in $SRV"
	[ "$b" = 0 ] || fail "PolicyRsts $b in $CLI"
	c=$(ip netns exec $CLI $TCPTERM stats -j | $JSON PolicyRsts)
	[ "$c" = 0 ] || fail "PolicyRsts $c by ip netns exec $CLI"
	$TCPTERM -n ttool-none-$$ stats >$TMP/out 2>$TMP/err && fail "unknown netns accepted"
	[ "$(wc -l <$TMP/err)" -eq 1 ] || fail "unknown netns: $(cat $TMP/err)"
	return 0
}

# What the tool relies on from the family: GET_STATS validated
# strictly, with the kernel's reason for what it refuses (extack).
netlink_strict() {
	got=$($GENL_REQ plain) || fail "plain request"
	[ "$got" = 'error=0 msg="" offset=-1' ] || fail "plain: $got"
	# An attribute: EINVAL, the message, and the attribute (offset 20,
	# after the netlink and genetlink headers) named.
	got=$($GENL_REQ attr) || fail "attr request"
	[ "$got" = 'error=22 msg="GET_STATS takes no attributes" offset=20' ] ||
		fail "attr: $got"
	got=$($GENL_REQ reserved) || fail "reserved request"
	case $got in
	error=22\ *reserved*) ;;
	*) fail "reserved: $got" ;;
	esac
	got=$($GENL_REQ dump) || fail "dump request"
	case $got in
	error=95\ *) ;;
	*) fail "dump: $got" ;;
	esac
	log "attr: $($GENL_REQ attr); reserved: $($GENL_REQ reserved)"
}

# rule add, show (text and JSON), del and flush, each checked by what an
# unmodified server (no tcpterm run) then does on the wire.
rule_round_trip() {
	$TCPTERM -n $SRV rule flush || fail "rule flush exited $?"
	rsts0=$(proc_stat PolicyRsts)
	$TCPTERM -n $SRV -j rule add port 8020-8021 family inet \
		policy half-duplex grace 3000 >$TMP/add || fail "rule add exited $?"
	got=$($JSON id policy port_min port_max family grace_ms <$TMP/add) ||
		fail "rule add -j: $(cat $TMP/add)"
	log "rule add -j: $(cat $TMP/add)"
	set -- $got
	id=$1
	[ "$2 $3 $4 $5 $6" = "half-duplex 8020 8021 inet 3000" ] ||
		fail "rule add -j: $got"
	$TCPTERM -n $SRV rule show >$TMP/text || fail "rule show exited $?"
	[ "$(cat $TMP/text)" = "rule $id family inet port 8020-8021 policy half-duplex grace 3000" ] ||
		fail "rule show: $(cat $TMP/text)"
	got=$($TCPTERM -n $SRV rule show -j | $JSON id policy) || fail "rule show -j"
	[ "$got" = "$id half-duplex" ] || fail "rule show -j: $got"
	# Rules are per namespace.
	[ "$($TCPTERM -n $CLI rule show -j)" = "[]" ] || fail "a rule in $CLI"

	exchange 8020 shut
	grep -qx 'read 0 error Connection reset by peer' $TMP/client ||
		fail "under the rule: client $(cat $TMP/client)"
	[ "$(proc_stat PolicyRsts)" -eq $((rsts0 + 1)) ] ||
		fail "PolicyRsts $(proc_stat PolicyRsts), expected $((rsts0 + 1))"
	exchange 8022 shut
	grep -qx 'read 6 eof' $TMP/client || fail "port 8022: client $(cat $TMP/client)"

	$TCPTERM -n $SRV rule del "$id" || fail "rule del exited $?"
	[ -z "$($TCPTERM -n $SRV rule show)" ] || fail "rule del left a rule"
	exchange 8021 shut
	grep -qx 'read 6 eof' $TMP/client || fail "after del: client $(cat $TMP/client)"
	[ "$(proc_stat PolicyRsts)" -eq $((rsts0 + 1)) ] || fail "a reset after del"

	$TCPTERM -n $SRV rule add port 8023 policy drain >/dev/null &&
		$TCPTERM -n $SRV rule add family inet6 policy drain >/dev/null ||
		fail "rule add"
	[ "$($TCPTERM -n $SRV rule show -j | $JSON id | wc -l)" -eq 2 ] ||
		fail "not two rules"
	$TCPTERM -n $SRV rule flush || fail "rule flush exited $?"
	[ "$($TCPTERM -n $SRV rule show -j)" = "[]" ] || fail "rule flush left rules"
	exchange 8023 close
	grep -q 'error Connection reset by peer' $TMP/client ||
		fail "after flush: client $(cat $TMP/client)"
}

# A rule with the closing notice: "notice" in, "notice" out, in text and
# in JSON (a boolean); a rule without it shows none.
rule_notice() {
	$TCPTERM -n $SRV rule flush || fail "rule flush exited $?"
	$TCPTERM -n $SRV rule add port 8030 policy default notice >/dev/null ||
		fail "rule add notice exited $?"
	$TCPTERM -n $SRV rule add port 8031 policy drain >/dev/null ||
		fail "rule add exited $?"
	$TCPTERM -n $SRV rule show >$TMP/text || fail "rule show exited $?"
	log "rule show: $(tr '\n' ';' <$TMP/text)"
	grep -q "port 8030 policy default notice\$" $TMP/text ||
		fail "rule show: no notice on 8030: $(cat $TMP/text)"
	grep "port 8031" $TMP/text | grep -q notice &&
		fail "rule show: notice on 8031: $(cat $TMP/text)"
	$TCPTERM -n $SRV rule show -j >$TMP/json || fail "rule show -j"
	got=$($JSON port_min notice <$TMP/json | head -n1)
	[ "$got" = "8030 true" ] || fail "rule show -j: $(cat $TMP/json)"
	$TCPTERM -n $SRV rule flush || fail "rule flush exited $?"
}

# What the kernel refuses comes back as one line with its reason (extack).
rule_refused() {
	$TCPTERM -n $SRV rule del 4000000000 >$TMP/out 2>$TMP/err
	rc=$?
	log "rule del 4000000000: $(cat $TMP/err)"
	[ $rc -eq 1 ] || fail "rule del of no rule: status $rc"
	grep -q ': no rule with this id$' $TMP/err || fail "rule del: $(cat $TMP/err)"
	[ "$(wc -l <$TMP/err)" -eq 1 ] || fail "not one line: $(cat $TMP/err)"
	# The namespace's bound: TCPTERM_RULES_MAX rules, not one more.
	i=0
	while [ $i -lt 256 ]; do
		$TCPTERM -n $SRV rule add port $((9000 + i)) policy drain \
			>/dev/null || fail "rule $i: status $?"
		i=$((i + 1))
	done
	$TCPTERM -n $SRV rule add port 9999 policy drain >$TMP/out 2>$TMP/err
	rc=$?
	log "rule 257: $(cat $TMP/err)"
	$TCPTERM -n $SRV rule flush || fail "rule flush exited $?"
	[ $rc -eq 1 ] || fail "rule 257: status $rc"
	grep -q ': too many rules in this namespace$' $TMP/err ||
		fail "rule 257: $(cat $TMP/err)"
	[ -s $TMP/out ] && fail "rule 257 printed $(cat $TMP/out)"
	return 0
}

# show: a connection tracked under a rule is listed with the cookie ss
# gives it, its state, policy and ports; the filters select.
show_tracked_socket() {
	$TCPTERM -n $SRV rule add port 8030 policy drain >/dev/null ||
		fail "rule add"
	ip netns exec $SRV $UNAWARE server 8030 close >$TMP/server 2>&1 &
	spid=$!
	i=0
	until ip netns exec $SRV ss -Htln 'sport = :8030' | grep -q .; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "no listener"
		sleep 0.1
	done
	# A client that says nothing for a while: the server's connection
	# waits for its input meanwhile.
	{ sleep 6; printf hello; } |
		ip netns exec $CLI busybox nc 10.78.0.2 8030 >$TMP/nc 2>&1 &
	cpid=$!
	i=0
	ck=
	while [ -z "$ck" ] && [ $i -lt 30 ]; do
		sleep 0.1
		ck=$(ip netns exec $SRV ss -Hten state established 'sport = :8030' 2>/dev/null |
			sed -n 's/.* sk:\([0-9a-f]*\).*/\1/p')
		i=$((i + 1))
	done
	[ -n "$ck" ] || fail "ss shows no connection on 8030"
	$TCPTERM -n $SRV show -j >$TMP/show || fail "show -j exited $?"
	log "show -j: $(cat $TMP/show)"
	$TCPTERM -n $SRV show >$TMP/show.txt || fail "show exited $?"
	log "show: $(cat $TMP/show.txt)"
	got=$($TCPTERM -n $SRV show -j port 8030 |
		$JSON cookie state policy saddr sport daddr bytes_discarded)
	[ "$got" = "$ck established drain 10.78.0.2 8030 10.78.0.1 0" ] ||
		fail "show -j port 8030: '$got', ss says sk:$ck"
	grep -Eq "^established +10\.78\.0\.2:8030 10\.78\.0\.1:[0-9]+ sk:$ck policy drain discarded 0( flags [a-z,-]+)?$" \
		$TMP/show.txt || fail "show: $(cat $TMP/show.txt)"
	[ "$($TCPTERM -n $SRV show -j state established port 8030 | $JSON cookie)" = "$ck" ] ||
		fail "show state established port 8030"
	[ "$($TCPTERM -n $SRV show -j state close-wait)" = "[]" ] ||
		fail "show state close-wait lists something"
	[ "$($TCPTERM -n $SRV show -j port 8031)" = "[]" ] ||
		fail "show port 8031 lists something"
	[ "$($TCPTERM -n $CLI show -j)" = "[]" ] || fail "show in $CLI lists something"
	wait $spid || fail "server: $(cat $TMP/server)"
	kill $cpid 2>/dev/null
	wait $cpid
	$TCPTERM -n $SRV rule flush || fail "rule flush exited $?"
	grep -q reply $TMP/nc || fail "client: $(cat $TMP/nc)"
}

# The demo's scene, asserted: an unmodified server closes with a
# pipelined request unread.  Stock, the slow client loses the answer to
# an RST; under a DRAIN rule on the port it reads all of it.  The drain
# is one event for monitor, and show lists the orphan meanwhile under
# the cookie ss gives it; Drains counts it.
rule_drain_pipeline() {
	ip netns exec $SRV $UNAWARE server 8040 pipeline >$TMP/server 2>&1 &
	spid=$!
	ip netns exec $CLI $UNAWARE client 10.78.0.2 8040 pipeline >$TMP/client 2>&1
	wait $spid || fail "server: $(cat $TMP/server)"
	log "stock: client $(cat $TMP/client)"
	grep -Eqx 'read [0-9]+ error Connection reset by peer' $TMP/client ||
		fail "stock: client $(cat $TMP/client)"

	drains0=$(proc_stat Drains)
	$TCPTERM -n $SRV rule add port 8040 policy drain >/dev/null || fail "rule add"
	$TCPTERM -n $SRV monitor -j -c 1 >$TMP/mon 2>$TMP/mon.err &
	mpid=$!
	sleep 0.5
	ip netns exec $SRV $UNAWARE server 8040 pipeline >$TMP/server 2>&1 &
	spid=$!
	ip netns exec $CLI $UNAWARE client 10.78.0.2 8040 pipeline >$TMP/client 2>&1 &
	cpid=$!
	wait $spid || fail "server: $(cat $TMP/server)"
	# Closed; the client starts reading a second after it connected.
	$TCPTERM -n $SRV show -j port 8040 >$TMP/show
	ss=$(ip netns exec $SRV ss -Htena 'sport = :8040' |
		sed -n 's/.* sk:\([0-9a-f]*\).*/\1/p')
	wait $cpid
	$TCPTERM -n $SRV rule flush
	log "drain rule: client $(cat $TMP/client); show $(cat $TMP/show); ss sk:$ss"
	grep -qx 'read 262144 eof' $TMP/client ||
		fail "drain rule: client $(cat $TMP/client)"
	got=$($JSON cookie state policy bytes_discarded <$TMP/show) ||
		fail "show -j: $(cat $TMP/show)"
	set -- $got
	[ "$2 $3 $4" = "fin-wait-1 drain 7" ] || fail "show: $got"
	[ "$1" = "$ss" ] || fail "show says sk:$1, ss says sk:$ss"
	i=0
	while kill -0 $mpid 2>/dev/null && [ $i -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $mpid 2>/dev/null && { kill $mpid; fail "no event"; }
	wait $mpid || fail "monitor exited $?: $(cat $TMP/mon.err)"
	log "monitor: $(cat $TMP/mon)"
	got=$($JSON event cookie sport state <$TMP/mon) || fail "monitor -j: $(cat $TMP/mon)"
	# The state when the drain began: close() had not moved it yet.
	[ "$got" = "drain $ss 8040 established" ] || fail "event: $got"
	[ "$(proc_stat Drains)" -eq $((drains0 + 1)) ] ||
		fail "Drains $(proc_stat Drains), expected $((drains0 + 1))"
}

# A rule on a cgroup by its path: the sockets of a program started in
# that cgroup (or below) get the policy, others do not.
rule_cgroup_path() {
	cg=/sys/fs/cgroup
	if ! grep -q "^cgroup2 $cg " /proc/mounts; then
		mkdir -p $cg && mount -t cgroup2 none $cg ||
			return $KSFT_SKIP
	fi
	mkdir -p $cg/ttool-$$/unit || fail "mkdir"
	$TCPTERM -n $SRV rule add cgroup ttool-$$ policy half-duplex >$TMP/add ||
		fail "rule add cgroup: status $?"
	id=$($TCPTERM -n $SRV -j rule show | $JSON cgroup)
	[ "$id" = "$(stat -c %i $cg/ttool-$$)" ] ||
		fail "rule show: cgroup $id, inode $(stat -c %i $cg/ttool-$$)"
	# Outside the cgroup: stock.
	exchange 8050 shut
	grep -qx 'read 6 eof' $TMP/client || fail "outside: client $(cat $TMP/client)"
	# A server started in a cgroup below the rule's (ip netns exec
	# mounts a sysfs of its own: the move is made before it).
	(echo 0 >$cg/ttool-$$/unit/cgroup.procs && exchange 8051 shut) ||
		fail "in the cgroup: $(cat $TMP/client)"
	grep -qx 'read 0 error Connection reset by peer' $TMP/client ||
		fail "inside: client $(cat $TMP/client)"
	$TCPTERM -n $SRV rule flush
	rmdir $cg/ttool-$$/unit $cg/ttool-$$
	# A path that is not a cgroup: one line, status 1, nothing added.
	$TCPTERM -n $SRV rule add cgroup ttool-$$ policy drain >$TMP/out 2>$TMP/err
	rc=$?
	[ $rc -eq 1 ] || fail "rule add of a missing cgroup: status $rc"
	[ "$(wc -l <$TMP/err)" -eq 1 ] || fail "not one line: $(cat $TMP/err)"
	[ "$($TCPTERM -n $SRV rule show -j)" = "[]" ] || fail "a rule was added"
	return 0
}

# Without the module (and nothing to load it from): one line, status 1,
# and run does not start the program.
missing_module() {
	loaded && { rmmod tcpterm || fail "rmmod"; }
	$TCPTERM stats >$TMP/out 2>$TMP/err
	rc=$?
	loaded || insmod "$KO" 2>/dev/null
	[ $rc -eq 1 ] || fail "stats without module: status $rc"
	grep -q 'not loaded' $TMP/err || fail "stats without module: $(cat $TMP/err)"
	[ "$(wc -l <$TMP/err)" -eq 1 ] || fail "not one line: $(cat $TMP/err)"
	rmmod tcpterm || fail "rmmod"
	$TCPTERM run -p drain -- touch $TMP/ran >$TMP/out 2>$TMP/err
	rc=$?
	# rule and show too: a missing module is an error, not "unsupported".
	for args in "rule show" "show" "monitor"; do
		# shellcheck disable=SC2086
		$TCPTERM $args >$TMP/out2 2>$TMP/err2
		rc2=$?
		[ $rc2 -eq 1 ] || break
	done
	insmod "$KO" || fail "insmod"
	[ $rc -eq 1 ] || fail "run without module: status $rc"
	[ -e $TMP/ran ] && fail "run started the program without the module"
	[ $rc2 -eq 1 ] || fail "$args without module: status $rc2: $(cat $TMP/err2)"
	grep -q 'not loaded' $TMP/err2 || fail "$args without module: $(cat $TMP/err2)"
	return 0
}

# The lookup of the family asks modprobe for the module by its alias:
# a kernel.modprobe of our own records the request and, as modprobe
# would, loads tcpterm.ko only if the module declares that alias.
module_autoload() {
	mp=/proc/sys/kernel/modprobe
	[ -w $mp ] || return $KSFT_SKIP
	old=$(cat $mp)
	cat >$TMP/modprobe <<-EOF
	#!/bin/sh
	echo "\$*" >>$TMP/modprobe.log
	for a; do name=\$a; done
	grep -q "alias=\$name" "$KO" && exec insmod "$KO"
	exit 1
	EOF
	chmod +x $TMP/modprobe
	loaded && { rmmod tcpterm || fail "rmmod"; }
	echo $TMP/modprobe >$mp
	$TCPTERM stats >$TMP/out 2>$TMP/err
	rc=$?
	echo "$old" >$mp
	was=no
	loaded && was=yes
	loaded || insmod "$KO"
	log "modprobe asked: $(cat $TMP/modprobe.log 2>/dev/null)"
	[ $rc -eq 0 ] || fail "stats with the module unloaded: status $rc: $(cat $TMP/err)"
	[ $was = yes ] || fail "the module was not loaded"
	grep -q -- '-family-tcpterm$' $TMP/modprobe.log ||
		fail "modprobe not asked for the family's alias"
	cmp -s $TMP/out /proc/net/tcpterm || fail "stats after the load differ"
}

[ -x "$TCPTERM" ] || { echo "1..0 # SKIP no tcpterm tool"; exit $KSFT_SKIP; }
loaded || insmod "$KO" || exit $KSFT_FAIL
trap cleanup EXIT
setup

ktap_plan 16
ktap_run help_and_bad_input
ktap_run stats_match_proc
ktap_run rule_round_trip
ktap_run rule_notice
ktap_run rule_refused
ktap_run show_tracked_socket
ktap_run rule_drain_pipeline
ktap_run rule_cgroup_path
ktap_run run_half_duplex_on_wire
ktap_run run_half_duplex_inet6
ktap_run run_drain_on_wire
ktap_run monitor_json_event
ktap_run netns_selects
ktap_run netlink_strict
ktap_run missing_module
ktap_run module_autoload
ktap_finish
