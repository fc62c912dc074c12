#!/bin/sh
for f in tcp_setsockopt tcp_getsockopt inet_shutdown tcp_v4_do_rcv tcp_v6_do_rcv tcp_recvmsg __tcp_close tcp_reset inet_csk_reqsk_queue_add tcp_v4_destroy_sock tcp_fin; do
  grep -qx "$f" /sys/kernel/tracing/available_filter_functions && echo "have $f" || echo "MISSING $f"
done
insmod /tcpterm.ko; echo insmod=$?
dmesg | tail -5
rmmod tcpterm; echo rmmod=$?
