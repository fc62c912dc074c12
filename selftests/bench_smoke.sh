#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark (make bench) in its smoke mode: two short rounds and a few
# hundred sockets.  Checks that it runs through and prints its whole
# table, every row and column there and every number a number; what the
# numbers say is not checked (no timing assertion).  Then checks that the
# check itself rejects damaged copies of that table.
#
#   netns tt-cli-PID-1                    netns tt-srv-PID-1
#   +-------------------+               +-------------------+
#   | veth0 10.77.0.1   |<------------->| veth1 10.77.0.2   |
#   +-------------------+               +-------------------+
#     churn, request/response, bulk; then memory, in fresh pairs
# The cases run through ktap_run; the cleanup leaves tcpterm loaded or
# not, as it was found.
# shellcheck disable=SC2317 source=selftests/lib.sh
. "$(dirname "$0")/lib.sh"

BENCH=$(cd "$(dirname "$0")" && pwd)/tcpterm_bench
ROUNDS=2
SIZES="100 300"

setup() {
	module_state_save
	tmp=$(mktemp -d) || fail "mktemp"
}

cleanup() {
	module_state_restore
	[ -z "${tmp:-}" ] || rm -rf "$tmp"
}

# The table in file $1 is whole: 0, or 1 with what is wrong on stdout.
check_table() {
	awk -v rounds="$ROUNDS" -v sizes="$SIZES" '
		function num(x) { return x ~ /^-?[0-9]+(\.[0-9]+)?$/ }
		function bad(msg) { print msg; err = 1 }
		BEGIN {
			nm = split("churn_conn_per_s rr_trans_per_s rr_p50_us rr_p99_us bulk_MB_per_s", metric, " ")
			nc = split("unloaded loaded half_duplex drain notice_other notice", conf, " ")
			nr = split("connection policied_socket draining_socket", row, " ")
			ns = split(sizes, size, " ")
			for (i = 1; i <= nm; i++)
				for (j = 1; j <= nc; j++)
					want[metric[i] " " conf[j]] = 1
			for (i = 1; i <= nr; i++)
				for (j = 1; j <= ns; j++) {
					want[row[i] " " size[j] " slab"] = 1
					if (row[i] != "draining_socket")
						want[row[i] " " size[j] " pages"] = 1
				}
		}
		/^==== tcpterm bench ====$/ { in_table = 1; begun = 1; next }
		/^==== end ====$/ { if (in_table) ended = 1; in_table = 0; next }
		!in_table || /^#/ { next }
		$1 == "metric" {
			if ($0 !~ /^metric +config +n +median +median_lo +median_hi +ratio +ratio_lo +ratio_hi$/)
				bad("bad header: " $0)
			head1 = 1
			next
		}
		$1 == "memory" {
			if ($0 !~ /^memory +sockets +source +bytes$/)
				bad("bad memory header: " $0)
			head2 = 1
			next
		}
		{
			mem = $1 ~ /^(connection|policied_socket|draining_socket)$/
			key = $1 " " $2 (mem ? " " $3 : "")
			if (!(key in want)) { bad("unexpected row: " $0); next }
			if (key in seen) bad("row twice: " key)
			seen[key] = 1
			if (mem) {
				if (NF != 4) bad("not 4 columns: " $0)
				else if (!num($4)) bad("not a number: " $4 " in " $0)
				next
			}
			if (NF != 9) { bad("not 9 columns: " $0); next }
			if ($3 != rounds) bad("n is not " rounds ": " $0)
			for (i = 4; i <= 9; i++)
				if (!num($i)) bad("not a number: " $i " in " $0)
			if (!($4 > 0)) bad("median not positive: " $0)
			if ($5 > $4 || $4 > $6) bad("median outside its CI: " $0)
			if ($2 == "unloaded" && ($7 != 1 || $8 != 1 || $9 != 1))
				bad("unloaded ratio is not 1: " $0)
		}
		END {
			if (!begun) bad("no table")
			if (!ended) bad("table not ended")
			if (!head1) bad("no metric header")
			if (!head2) bad("no memory header")
			for (k in want)
				if (!(k in seen)) bad("missing row: " k)
			exit err
		}' "$1"
}

smoke_table_complete() {
	TCPTERM_BENCH_SMOKE=1 TCPTERM_BENCH_MEM_SOCKETS="$SIZES" "$BENCH" \
		>"$tmp/out" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp/out"
	[ "$rc" -eq 0 ] || fail "tcpterm_bench exited with $rc"
	check_table "$tmp/out" >"$tmp/why" || {
		sed 's/^/# /' "$tmp/why"
		fail "incomplete table"
	}
	cp "$tmp/out" "$tmp/good"
}

# Each damage must be rejected, or the check above proves nothing.
checker_rejects_damaged_tables() {
	[ -s "$tmp/good" ] || fail "no complete table to damage"
	g=$tmp/good
	set -- \
		"row missing:/^rr_p99_us  *drain /d" \
		"memory row missing:/^policied_socket  *300 pages /d" \
		"column missing:s/^\(bulk_MB_per_s  *loaded  *[^ ]*  *[^ ]*\)  *[^ ]*/\1/" \
		"not a number:s/^\(churn_conn_per_s  *half_duplex  *[0-9]*  *\)[^ ]*/\1nan/" \
		"memory not a number:s/^\(draining_socket  *100 slab  *\)[^ ]*/\1-/" \
		"row twice:/^rr_trans_per_s  *loaded /p" \
		"end missing:/^==== end ====$/d"
	for d; do
		sed "${d#*:}" "$g" >"$tmp/damaged"
		cmp -s "$g" "$tmp/damaged" && fail "damage '${d%%:*}' changed nothing"
		if check_table "$tmp/damaged" >"$tmp/why"; then
			fail "damage '${d%%:*}' accepted"
		fi
		log "${d%%:*}: rejected ($(head -n1 "$tmp/why"))"
	done
}

trap_cleanup
setup
ktap_plan 2
ktap_run smoke_table_complete
ktap_run checker_rejects_damaged_tables
ktap_finish
