#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The int options at SOL_TCPTERM as module/options.h states them.
#
#   scripts/options.sh          check that the man page's summary table
#                               (Documentation/man/tcpterm.7, between the
#                               "options.h begin/end" comments) is the one
#                               options.h gives; a diff otherwise
#   scripts/options.sh --man    print that table (roff, for tbl)
#   scripts/options.sh --tsv    name, min, max, default, users
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
man=$top/Documentation/man/tcpterm.7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The table is C: let the compiler evaluate it.
cat >"$tmp/opts.c" <<'C'
#include <stdio.h>
#include <linux/tcpterm.h>

int main(void)
{
#define TCPTERM_OPTION(opt, field, lo, hi, def, users) \
	printf("%s\t%d\t%d\t%d\t%s\n", #opt, lo, hi, def, users);
#include "options.h"
	return 0;
}
C
${CC:-gcc} -I"$top/uapi" -I"$top/module" -o "$tmp/opts" "$tmp/opts.c"
"$tmp/opts" >"$tmp/opts.tsv"

roff() {
	echo '.TS'
	echo 'l r r r l.'
	printf 'option\tmin\tmax\tdefault\tread by\n'
	echo '_'
	sed 's/^/\\fB/; s/\t/\\fR\t/' "$tmp/opts.tsv"
	echo '.TE'
}

case ${1:-} in
--tsv) cat "$tmp/opts.tsv" ;;
--man) roff ;;
"")
	sed -n '/^\.\\" options.h begin/,/^\.\\" options.h end/p' "$man" |
		sed '1d;$d' >"$tmp/man.roff"
	roff >"$tmp/want.roff"
	if ! diff -u "$tmp/want.roff" "$tmp/man.roff"; then
		echo "options: the table in $man is not module/options.h's: replace it with the output of scripts/options.sh --man" >&2
		exit 1
	fi
	;;
*) echo "usage: $0 [--man|--tsv]" >&2; exit 2 ;;
esac
