#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: load tcpterm and play the demo.
insmod /tcpterm.ko || exit 1
echo "# $(dmesg | grep -m1 'tcpterm: loaded')"
/selftests/tcpterm_demo
