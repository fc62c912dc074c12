#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: load tcpterm and play the demo.  Scenes 1 to 4 are
# selftests/tcpterm_demo (programs that set the option); scene 5 is an
# unmodified server, put under a policy by the operator with tcpterm(8).
#
#   demo-cli (10.79.0.1) -- veth -- demo-srv (10.79.0.2)
#   tcpterm_unaware client  pipeline    tcpterm_unaware server 8080
insmod /tcpterm.ko || exit 1
echo "# $(dmesg | grep -m1 'tcpterm: loaded')"
/selftests/tcpterm_demo || exit 1

[ -x /usr/sbin/tcpterm ] || { echo "(no tcpterm tool in the VM: scene 5 skipped)"; exit 0; }
UNAWARE=/selftests/tcpterm_unaware
SRV=demo-srv
CLI=demo-cli
TMP=$(mktemp -d)
ip() { /sbin/ip "$@"; }	# iproute2, not busybox's
tcpterm() { /usr/sbin/tcpterm "$@"; }

ip netns add $SRV && ip netns add $CLI || exit 1
ip -n $CLI link add veth0 type veth peer name veth0 netns $SRV
ip -n $CLI addr add 10.79.0.1/24 dev veth0
ip -n $SRV addr add 10.79.0.2/24 dev veth0
ip -n $CLI link set veth0 up
ip -n $SRV link set veth0 up
ip -n $CLI link set lo up
ip -n $SRV link set lo up

# One pipelined exchange; the client's one line of outcome on stdout.
exchange() {
	ip netns exec $SRV $UNAWARE server 8080 pipeline >$TMP/server 2>&1 &
	spid=$!
	ip netns exec $CLI $UNAWARE client 10.79.0.2 8080 pipeline \
		>$TMP/client 2>&1 &
	cpid=$!
	if [ -n "$1" ]; then
		# The server has closed; the client has not started reading.
		sleep 0.6
		echo "  \$ tcpterm -n $SRV show"
		tcpterm -n $SRV show | sed 's/^/  /'
	fi
	wait $spid
	wait $cpid
	echo "  server: $(cat $TMP/server)"
	echo "  client: $(cat $TMP/client)"
}

echo
echo "Scene 5: a server nobody can change (no tcpterm call in it) answers"
echo "the first of two pipelined requests and closes, the second unread."
echo "The client reads slowly (16 KiB window, starts one second later)."
echo "Stock Linux: the unread request turns close() into an RST; the"
echo "answer still queued is lost."
exchange
echo "The operator puts the server's port under DRAIN, program unchanged:"
echo "  \$ tcpterm -n $SRV rule add port 8080 policy drain"
tcpterm -n $SRV rule add port 8080 policy drain >/dev/null || exit 1
echo "  \$ tcpterm -n $SRV monitor &"
/usr/sbin/tcpterm -n $SRV monitor >$TMP/monitor 2>&1 &
mpid=$!
sleep 0.3
exchange show
sleep 0.2
kill -INT $mpid
wait $mpid
sed 's/^/  monitor: /' $TMP/monitor
echo "  \$ tcpterm -n $SRV stats"
tcpterm -n $SRV stats | grep -E '^(PolicyRsts|BytesDiscarded|Drains|DrainsForced) ' |
	sed 's/^/  /'
tcpterm -n $SRV rule flush
ip netns del $SRV
ip netns del $CLI
rm -rf "$TMP"
