#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo command: install what is missing, build, boot the VM with
# tcpterm loaded and show what it does.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
make -s module
make -s selftests
run=$(scripts/vm.sh demo | tail -n1)
grep -v '^TCPTERM-VM-DONE' "$run/result.log"
grep -q '^TCPTERM-VM-DONE rc=0' "$run/result.log"
