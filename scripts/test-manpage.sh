#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tcpterm(8) and "tcpterm help" agree (KTAP):
#
#   synopsis_is_usage      the man page's SYNOPSIS, its roff markup taken
#                          away, is the usage text word for word (every
#                          option, object, command, keyword and
#                          placeholder, in order; line breaks and spacing
#                          aside), the "Exit status" line of the usage
#                          aside
#   options_documented     every option and object of the usage has an
#                          entry (.TP) in the man page's body, and every
#                          option with an entry there is in the usage
#   checker_can_fail       the two checks above, run on a man page with
#                          one option removed and on a usage text with
#                          one option added, fail
#
# Needs the built tool (make tools) and python3.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tool=${TCPTERM:-$top/tools/tcpterm/tcpterm}
man=$top/Documentation/man/tcpterm.8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check.py SYNOPSIS|OPTIONS USAGE_FILE MAN_FILE: exit 0 when they agree,
# 1 with what differs.
cat >"$tmp/check.py" <<'EOF'
import re
import shlex
import sys

ALT = {'BR', 'RB', 'IR', 'RI', 'BI', 'IB'}
WORD = re.compile(r'--?[A-Za-z][\w-]*|[A-Za-z][\w-]*|:=|[{}\[\]|]')

def unescape(s):
    s = re.sub(r'\\f[BIRP]', '', s)
    return (s.replace(r'\-', '-').replace(r'\(dq', '"')
             .replace(r'\e', '\\').replace(r'\&', ''))

def roff_text(line):
    """The text a roff line shows, fonts aside; None for other requests."""
    if not line.startswith('.'):
        return unescape(line)
    parts = line[1:].split(None, 1)
    if not parts:
        return None
    macro, rest = parts[0], parts[1] if len(parts) > 1 else ''
    if macro in ALT:
        return unescape(''.join(shlex.split(rest, posix=True)))
    if macro in ('B', 'I'):
        return unescape(' '.join(shlex.split(rest, posix=True)))
    return None

def sections(path):
    """Section name -> list of (request, text) of its lines."""
    out, name = {}, None
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('.\\"'):
            continue
        m = re.match(r'\.SH\s+"?([^"]*)"?', line)
        if m:
            name = m.group(1).strip()
            out[name] = []
            continue
        if name:
            out[name].append(line)
    return out

def usage_words(path):
    text = []
    for line in open(path):
        if line.startswith('Exit status'):
            continue
        text.append(re.sub(r'^Usage:', '', line))
    return WORD.findall(' '.join(text))

def synopsis_words(secs):
    text = [roff_text(l) for l in secs.get('SYNOPSIS', [])]
    return WORD.findall(' '.join(t for t in text if t))

def documented_terms(secs):
    """The first line after each .TP outside the SYNOPSIS, as text."""
    terms = []
    for name, lines in secs.items():
        if name == 'SYNOPSIS':
            continue
        for i, l in enumerate(lines):
            if l.startswith('.TP') and i + 1 < len(lines):
                t = roff_text(lines[i + 1])
                if t:
                    terms.append(t)
    return terms

def is_opt(w):
    # -j, -V, --json; not -PORT (the placeholder in PORT[-PORT]).
    return re.fullmatch(r'-[A-Za-z]|--[a-z][a-z0-9-]*', w) is not None

def main():
    what, usage, man = sys.argv[1:4]
    secs = sections(man)
    u = usage_words(usage)
    if what == 'SYNOPSIS':
        s = synopsis_words(secs)
        if u == s:
            return 0
        n = next((i for i, (a, b) in enumerate(zip(u, s)) if a != b),
                 min(len(u), len(s)))
        print('usage and SYNOPSIS differ at word %d:' % (n + 1))
        print('  usage:    ' + ' '.join(u[max(0, n - 4):n + 6]))
        print('  SYNOPSIS: ' + ' '.join(s[max(0, n - 4):n + 6]))
        return 1
    # OPTIONS: options and objects of the usage each have an entry, and
    # each option with an entry is in the usage.
    terms = documented_terms(secs)
    term_words = set()
    for t in terms:
        term_words.update(WORD.findall(t.split('(')[0]))
    opts = {w for w in u if is_opt(w)}
    m = re.search(r'OBJECT := \{([^}]*)\}', ' '.join(open(usage)))
    objects = set(m.group(1).replace('|', ' ').split()) if m else set()
    bad = 0
    for w in sorted((opts | objects) - term_words):
        print('in the usage, without an entry in the man page: ' + w)
        bad = 1
    for w in sorted({w for w in term_words if is_opt(w)} - opts):
        print('an entry in the man page, not in the usage: ' + w)
        bad = 1
    if not objects:
        print('no OBJECT := { ... } in the usage')
        bad = 1
    return bad

sys.exit(main())
EOF

. "$(dirname "$0")/ktap.sh"
result() { ktap_result "$@"; }
run_check() { # what usage man
	python3 "$tmp/check.py" "$@" 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

echo "KTAP version 1"
echo "1..3"
if [ ! -x "$tool" ]; then
	echo "# $tool missing: run make tools"
	for c in synopsis_is_usage options_documented checker_can_fail; do
		result 1 $c
	done
	exit 1
fi
"$tool" help >"$tmp/usage" || { echo "# tcpterm help failed"; exit 1; }

run_check SYNOPSIS "$tmp/usage" "$man"
result $? synopsis_is_usage
run_check OPTIONS "$tmp/usage" "$man"
result $? options_documented

# Doctored copies must fail: the checks can see a difference.
can_fail=0
sed 's/ \[ \\fB\\-\\-grace\\fR \\fIMS\\fR \]//' "$man" >"$tmp/man-less"
cmp -s "$man" "$tmp/man-less" && { echo "# could not remove --grace from the copy"; can_fail=1; }
python3 "$tmp/check.py" SYNOPSIS "$tmp/usage" "$tmp/man-less" >/dev/null && {
	echo "# SYNOPSIS without --grace passed"; can_fail=1; }
sed 's/\[ --grace MS \]/[ --grace MS ] [ --linger MS ]/' "$tmp/usage" >"$tmp/usage-more"
cmp -s "$tmp/usage" "$tmp/usage-more" && { echo "# could not add --linger to the copy"; can_fail=1; }
python3 "$tmp/check.py" SYNOPSIS "$tmp/usage-more" "$man" >/dev/null && {
	echo "# usage with --linger passed the SYNOPSIS check"; can_fail=1; }
python3 "$tmp/check.py" OPTIONS "$tmp/usage-more" "$man" >/dev/null && {
	echo "# usage with --linger passed the OPTIONS check"; can_fail=1; }
result $can_fail checker_can_fail

[ "$ktap_fails" -eq 0 ]
