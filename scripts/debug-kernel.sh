#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once per machine) a debug kernel from Debian's linux-source-6.1:
# defconfig + kvm_guest.config + scripts/kconfig/debug.config (KASAN,
# lockdep, kmemleak, debug objects).  The tree is cached under
# ${TCPTERM_CACHE:-/var/cache/tcpterm}, keyed by the fragment and the
# source package version; prints the tree's path on the last line.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/scripts/kconfig/debug.config
cache=${TCPTERM_CACHE:-/var/cache/tcpterm}

if ! dpkg-query -W -f='${Status}' linux-source-6.1 2>/dev/null | grep -q 'ok installed'; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends linux-source-6.1 libssl-dev >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends linux-source-6.1 libssl-dev >/dev/null; }
fi
for p in libssl-dev flex bison bc libelf-dev; do
	dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed' ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $p >/dev/null
done

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (echo "$srcver"; cat "$frag") | sha256sum | cut -c1-16)
tree=$cache/debug-$key
# One build per tree: a second caller waits for the first, then reuses it.
mkdir -p "$cache"
exec 9>"$tree.lock"
flock 9
if [ -f "$tree/.tcpterm-built" ]; then
	echo "$tree"
	exit 0
fi

echo "debug-kernel: building $srcver with $(basename "$frag") in $tree (about 25 min on 2 cores)" >&2
rm -rf "$tree"
mkdir -p "$tree"
tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$tree" --strip-components=1
cd "$tree"
make -s defconfig >&2
make -s kvm_guest.config >&2
scripts/kconfig/merge_config.sh -m .config "$frag" >&2
make -s olddefconfig >&2
for opt in KASAN PROVE_LOCKING DEBUG_KMEMLEAK VETH NET_SCH_NETEM DYNAMIC_FTRACE_WITH_REGS; do
	grep -q "^CONFIG_$opt=y" .config || { echo "debug-kernel: CONFIG_$opt did not stick" >&2; exit 1; }
done
make -s -j"$(nproc)" bzImage modules >&2
touch .tcpterm-built
echo "$tree"
