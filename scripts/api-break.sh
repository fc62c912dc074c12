#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A kernel API break must stop the build, not the running kernel.  Build
# against a copy of the host's Debian headers in which tcp_reset(), a
# hooked function (its observer reads the arguments by position), takes
# one more argument: the build must fail at the prototype checks of
# module/hooks.c.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/api-break

eval "$("$top/scripts/kernel.sh" fetch 6.1 | grep '^KDIR=')"
src=$KDIR
[ -f "$src/Makefile" ] || { echo "no headers in $src" >&2; exit 1; }
common=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$src/Makefile")

rm -rf "$work"
mkdir -p "$work/mod"
cp -a "$src" "$work/arch"
cp -a "$common" "$work/common"
sed -i "s|^include .*|include $work/common/Makefile|" "$work/arch/Makefile"
# Relative links out of the trees (to linux-kbuild) must keep pointing there.
for d in "$src:$work/arch" "$common:$work/common"; do
	for l in $(find "${d%%:*}" -maxdepth 1 -type l -printf '%f\n'); do
		ln -sfn "$(readlink -f "${d%%:*}/$l")" "${d#*:}/$l"
	done
done
hdr=$work/common/include/net/tcp.h
sed -i 's/^void tcp_reset(struct sock \*sk, struct sk_buff \*skb);$/void tcp_reset(struct sock *sk, struct sk_buff *skb, int tcpterm_api_break);/' "$hdr"
grep -q tcpterm_api_break "$hdr" || { echo "could not change tcp_reset in $hdr" >&2; exit 1; }

cp -a "$top/Kbuild" "$top/module" "$top/uapi" "$work/mod/"
rm -f "$work"/mod/module/*.o "$work"/mod/module/.*.cmd "$work"/mod/module/*.ko
if make -C "$work/arch" M="$work/mod" modules >"$work/build.log" 2>&1; then
	echo "built against a changed tcp_reset(): the prototype check is missing" >&2
	exit 1
fi
if ! grep -q 'tcp_reset changed its prototype' "$work/build.log"; then
	tail -n 20 "$work/build.log" >&2
	echo "the build failed, but not at the prototype check" >&2
	exit 1
fi
echo "the build stopped: $(grep -m1 'changed its prototype' "$work/build.log")"
rm -rf "$work"
