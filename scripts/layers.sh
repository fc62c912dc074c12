#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's layers (module/main.c states them): a file may include
# the headers of the layers below its own, its own header, and the
# tables and shims every layer shares (options.h, compat.h, fault.h);
# never a
# header of its own layer or one above.  Fails on an include that goes
# sideways or up, and on a file no layer names (a new file must be
# placed).  --graph prints the include graph of module/ (file -> header,
# with the layer of each) to standard output.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top/module"

# Layer of each unit (a .c file and its .h), top to bottom.
declare -A layer=(
	[main]=8
	[hooks]=7
	[sockopt]=6
	[policy]=5 [drain]=5 [crossing]=5
	[notice]=4
	[prot]=3 [tcphelp]=3
	[ns]=2
	[sock]=1
	[netlink]=0 [gate]=0
)
shared="options compat fault"

graph=0
[ "${1:-}" = --graph ] && graph=1

fail=0
for f in *.c *.h; do
	case $f in *.mod.c) continue ;; esac
	unit=${f%.*}
	if [[ " $shared " == *" $unit "* ]]; then
		if grep -q '^#include "' "$f"; then
			echo "layers: $f is shared by every layer and may include no tcpterm header" >&2
			fail=1
		fi
		continue
	fi
	if [ -z "${layer[$unit]:-}" ]; then
		echo "layers: $f belongs to no layer: place it in scripts/layers.sh and main.c" >&2
		fail=1
		continue
	fi
	while read -r inc; do
		dep=${inc%.h}
		[ $graph -eq 1 ] && printf '%s(%s) -> %s\n' "$f" "${layer[$unit]}" "$inc"
		[ "$dep" = "$unit" ] && continue
		[[ " $shared " == *" $dep "* ]] && continue
		if [ -z "${layer[$dep]:-}" ]; then
			echo "layers: $f includes $inc, which belongs to no layer" >&2
			fail=1
		elif [ "${layer[$dep]}" -ge "${layer[$unit]}" ]; then
			echo "layers: $f (layer ${layer[$unit]}) includes $inc (layer ${layer[$dep]}): calls must go down" >&2
			fail=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
exit $fail
