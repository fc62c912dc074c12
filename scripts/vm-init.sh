#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test VM.  Mounts what the tests need, loads the kernel
# modules they use, runs the mode named on the kernel command line with
# its output on ttyS1, then powers off.
/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up

kver=$(uname -r)
for m in $(cat /lib/modules/$kver/load-order); do
	insmod /lib/modules/$kver/$m.ko
done

mode=test
for arg in $(cat /proc/cmdline); do
	case $arg in
	tcpterm_mode=*) mode=${arg#tcpterm_mode=} ;;
	tcpterm_only=*) export TCPTERM_ONLY=${arg#tcpterm_only=} ;;
	tcpterm_suite=*) export TCPTERM_SUITE=${arg#tcpterm_suite=} ;;
	TCPTERM_BENCH_*=*) export "$arg" ;;
	esac
done
stty -F /dev/ttyS1 raw -echo 2>/dev/null
export TCPTERM_KO=/tcpterm.ko
case $mode in
test) /selftests/run_kselftest.sh >/dev/ttyS1 2>&1 ;;
demo) /demo.sh >/dev/ttyS1 2>&1 ;;
bench) /selftests/tcpterm_bench >/dev/ttyS1 2>&1 ;;
esac
echo "TCPTERM-VM-DONE rc=$?" >/dev/ttyS1
sync
poweroff -f
