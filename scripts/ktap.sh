# SPDX-License-Identifier: GPL-2.0
#
# Reading the runner's KTAP: sourced by scripts/run-tests.sh (its counts)
# and scripts/test-runner.sh (which tests them).
#
# A result log nests each program's KTAP one level (two spaces) below
# the top-level "ok N selftests: PROGRAM" lines, as selftests/
# run_kselftest.sh writes it.  A case is a nested result line:
#   "  ok N NAME"                 passed
#   "  ok N NAME # SKIP ..."      skipped (the shell tests' form)
#   "  ok N # SKIP REASON"        skipped (kselftest.h's form: no name)
#   "  not ok N NAME"             failed
# The kernel harness's other lines ("#  RUN ...", "#  OK ...", "# Totals:
# ...") start with '#' and are not counted: each case has exactly one
# result line.

# ktap_counts FILE: "PASSED FAILED SKIPPED" over the nested results.
ktap_counts() {
	local p f s
	p=$(grep -Ec '^ +ok [0-9]+ [^#]*$' "$1")
	s=$(grep -Ec '^ +ok [0-9]+ .*# SKIP' "$1")
	f=$(grep -Ec '^ +not ok [0-9]+' "$1")
	echo "$p $f $s"
}

# ktap_last_running FILE: the last program started, and the last case
# that program started ("# RUN NAME" from lib.sh, "#  RUN  NAME ..."
# from the kernel harness).
ktap_last_running() {
	awk '
		/^# selftest: / { prog = substr($0, 13); kase = "" }
		/^ +# +RUN +/ {
			kase = $0
			sub(/^ +# +RUN +/, "", kase)
			sub(/ \.\.\.$/, "", kase)
		}
		END {
			if (prog == "") prog = "(no selftest had started)"
			printf "%s%s\n", prog, kase == "" ? "" : ", case " kase
		}' "$1"
}

# ktap_result RC NAME [DIRECTIVE]: one KTAP result line of a host test
# script; ktap_n numbers them, ktap_fails counts the failures.  RC 0 is
# "ok" (a DIRECTIVE is appended as "# DIRECTIVE"), 4 (kselftest's
# KSFT_SKIP) "ok ... # SKIP DIRECTIVE", anything else "not ok".
ktap_n=0
ktap_fails=0
ktap_result() {
	ktap_n=$((ktap_n + 1))
	case $1 in
	0) echo "ok $ktap_n $2${3:+ # $3}" ;;
	4) echo "ok $ktap_n $2 # SKIP${3:+ $3}" ;;
	*)
		echo "not ok $ktap_n $2"
		ktap_fails=$((ktap_fails + 1))
		;;
	esac
}
