#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Documentation/netlink/specs/tcpterm.yaml against the kernel's own YNL
# schema and tools, and against uapi/linux/tcpterm.h (KTAP):
#
#   spec_valid_against_kernel_schema  JSON-schema validation with the
#                      kernel's Documentation/netlink/genetlink-c.yaml
#   ynl_library_loads_spec            the kernel's YNL library
#                      (tools/net/ynl/lib, SpecFamily) parses it: every
#                      reference (nested set, enum, group) resolves
#   ynl_gen_c_accepts_spec            ynl-gen-c.py renders the kernel
#                      source and the uapi header from it
#   spec_matches_uapi_header          every name and value the spec
#                      gives (commands, both attribute sets, the enums,
#                      family name and version, the group) is the
#                      header's, and the header has nothing past the
#                      spec's last command, attribute or counter
#   checks_can_fail    a spec with an unknown type fails the schema, one
#                      with an attribute left out fails the header check
#
# Linux 6.1's source (linux-source-6.1) has no netlink schemas, so they
# and the YNL tools come from Debian's linux-source-6.12 (the matrix's
# bookworm-backports series), fetched once with apt-get download and
# kept in ${TCPTERM_CACHE:-/var/cache/tcpterm}/ynl.  Needs python3 with
# yaml and jsonschema (scripts/deps.sh), and gcc.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
spec=$top/Documentation/netlink/specs/tcpterm.yaml
cache=${TCPTERM_CACHE:-/var/cache/tcpterm}/ynl
pkg=${TCPTERM_YNL_PKG:-linux-source-6.12}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The kernel's schemas and YNL tools, from the newest $pkg.
fetch() {
	local deb tarball src
	mkdir -p "$cache"
	src=$(ls -d "$cache"/linux-source-*/ 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$src" ] && [ -f "$src/Documentation/netlink/genetlink-c.yaml" ]; then
		echo "${src%/}"
		return 0
	fi
	(cd "$tmp" && apt-get download -q "$pkg" >&2) || return 1
	deb=$(ls "$tmp"/"$pkg"_*.deb | head -n 1)
	dpkg-deb --fsys-tarfile "$deb" | tar -C "$tmp" -x --wildcards './usr/src/linux-source-*.tar.xz' ||
		return 1
	tarball=$(ls "$tmp"/usr/src/linux-source-*.tar.xz | head -n 1)
	tar -C "$cache" -xJf "$tarball" --wildcards \
		'linux-source-*/Documentation/netlink/*.yaml' \
		'linux-source-*/tools/net/ynl/*' || return 1
	rm -rf "$tmp/usr" "$deb"
	src=$(ls -d "$cache"/linux-source-*/ | sort -V | tail -n 1)
	echo "${src%/}"
}

cat >"$tmp/check.py" <<'EOF'
import os
import subprocess
import sys

import jsonschema
import yaml

what, ksrc, spec, top, work = sys.argv[1:6]
schema_path = os.path.join(ksrc, 'Documentation/netlink/genetlink-c.yaml')

def cname(prefix, name):
    return (prefix + name).upper().replace('-', '_')

if what == 'schema':
    schema = yaml.safe_load(open(schema_path))
    jsonschema.Draft7Validator.check_schema(schema)
    errs = list(jsonschema.Draft7Validator(schema).iter_errors(
        yaml.safe_load(open(spec))))
    for e in errs:
        print('%s: %s' % ('/'.join(str(p) for p in e.absolute_path), e.message))
    sys.exit(1 if errs else 0)

sys.path.insert(0, os.path.join(ksrc, 'tools/net/ynl'))
from lib import SpecFamily  # noqa: E402

fam = SpecFamily(spec, schema_path)
if what == 'load':
    for name, aset in fam.attr_sets.items():
        for a in aset.attrs.values():
            if a.type == 'nest' and a.yaml.get('nested-attributes') \
                    not in fam.attr_sets:
                print('%s.%s: no set %s' % (name, a.name,
                                           a.yaml.get('nested-attributes')))
                sys.exit(1)
            if 'enum' in a.yaml and a.yaml['enum'] not in fam.consts:
                print('%s.%s: no enum %s' % (name, a.name, a.yaml['enum']))
                sys.exit(1)
    groups = [g['name'] for g in fam.yaml.get('mcast-groups', {})
              .get('list', [])]
    for op in fam.msgs.values():
        g = op.yaml.get('mcgrp')
        if g and g not in groups:
            print('%s: no group %s' % (op.name, g))
            sys.exit(1)
    print('%d commands, %d attribute sets, %d enums, groups %s' % (
        len(fam.msgs), len(fam.attr_sets), len(fam.consts), groups))
    sys.exit(0)

# header: a C program comparing every name the spec implies with the
# header's value.
y = fam.yaml
checks = []   # (C expression, expected value)
strs = []     # (C expression, expected string)
maxes = []    # (C name, expected value)
fprefix = y['name']
for aset in y['attribute-sets']:
    prefix = aset.get('name-prefix', '%s-%s-a-' % (fprefix, aset['name']))
    last = 0
    for a in fam.attr_sets[aset['name']].attrs.values():
        checks.append((cname(prefix, a.name), a.value))
        last = max(last, a.value)
    if 'attr-max-name' in aset:
        maxes.append((cname('', aset['attr-max-name']), last))
ops = y['operations']
oprefix = ops.get('name-prefix', fprefix + '-cmd-')
for op in fam.msgs.values():
    checks.append((cname(oprefix, op.name), op.value))
if 'cmd-max-name' in y:
    maxes.append((cname('', y['cmd-max-name']),
                  max(op.value for op in fam.msgs.values())))
for d in y.get('definitions', []):
    if d['type'] != 'enum':
        continue
    prefix = d.get('name-prefix', '%s-%s-' % (fprefix, d['name']))
    for e in fam.consts[d['name']].entries.values():
        checks.append((cname(prefix, e.name), e.value))
if 'c-family-name' in y:
    strs.append((cname('', y['c-family-name']), y['name']))
if 'c-version-name' in y:
    checks.append((cname('', y['c-version-name']), y.get('version', 1)))
for g in y.get('mcast-groups', {}).get('list', []):
    strs.append((cname('', g.get('c-define-name',
                                 '%s-mcgrp-%s' % (fprefix, g['name']))),
                 g['name']))

src = ['#include <stdio.h>', '#include <string.h>',
       '#include <linux/tcpterm.h>', 'int main(void)', '{', '\tint bad = 0;']
for expr, val in checks + maxes:
    src.append('\tif ((long long)(%s) != %dLL) { printf("%s is %%lld in the '
               'header, %d in the spec\\n", (long long)(%s)); bad = 1; }'
               % (expr, val, expr, val, expr))
for expr, val in strs:
    src.append('\tif (strcmp(%s, "%s")) { printf("%s is \\"%%s\\" in the '
               'header, \\"%s\\" in the spec\\n", %s); bad = 1; }'
               % (expr, val, expr, val, expr))
src += ['\treturn bad;', '}']
c = os.path.join(work, 'names.c')
open(c, 'w').write('\n'.join(src) + '\n')
exe = os.path.join(work, 'names')
r = subprocess.run(['gcc', '-I', os.path.join(top, 'uapi'), '-o', exe, c],
                   capture_output=True, text=True)
if r.returncode:
    # A name the spec implies that the header does not define.
    print('\n'.join(l for l in r.stderr.splitlines() if 'error' in l))
    sys.exit(1)
r = subprocess.run([exe], capture_output=True, text=True)
print(r.stdout, end='')
if r.returncode == 0:
    print('%d values and %d strings agree' % (len(checks) + len(maxes),
                                                len(strs)))
sys.exit(r.returncode)
EOF

. "$(dirname "$0")/ktap.sh"
result() { ktap_result "$@"; }
check() { # what spec
	python3 "$tmp/check.py" "$1" "$ksrc" "$2" "$top" "$tmp" 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

echo "KTAP version 1"
echo "1..5"
if ! ksrc=$(fetch); then
	echo "# cannot fetch $pkg (apt-get download): no kernel netlink schema"
	for c in spec_valid_against_kernel_schema ynl_library_loads_spec \
		ynl_gen_c_accepts_spec spec_matches_uapi_header checks_can_fail; do
		result 1 $c
	done
	exit 1
fi
echo "# kernel schema and YNL tools: $ksrc"

check schema "$spec"
result $? spec_valid_against_kernel_schema
check load "$spec"
result $? ynl_library_loads_spec

# ynl-gen-c.py finds the kernel tree by its MAINTAINERS file: give the
# spec a tree of its own.
gen=$tmp/tree
mkdir -p "$gen/Documentation/netlink/specs"
touch "$gen/MAINTAINERS"
cp "$ksrc"/Documentation/netlink/*.yaml "$gen/Documentation/netlink/"
cp "$spec" "$gen/Documentation/netlink/specs/"
rc=0
for mode in "kernel --source" "uapi --header"; do
	# shellcheck disable=SC2086
	timeout 120 python3 "$ksrc/tools/net/ynl/ynl-gen-c.py" --mode $mode \
		--spec "$gen/Documentation/netlink/specs/tcpterm.yaml" \
		-o "$tmp/gen.out" >"$tmp/gen.log" 2>&1 || {
		sed 's/^/# /' "$tmp/gen.log" | tail -n 5
		rc=1
	}
	grep -q 'tcpterm' "$tmp/gen.out" 2>/dev/null || rc=1
	rm -f "$tmp/gen.out"
done
result $rc ynl_gen_c_accepts_spec

check header "$spec"
result $? spec_matches_uapi_header

rc=0
sed 's/^        type: u16$/        type: u17/' "$spec" >"$tmp/bad-type.yaml"
cmp -s "$spec" "$tmp/bad-type.yaml" && { echo "# could not plant a bad type"; rc=1; }
python3 "$tmp/check.py" schema "$ksrc" "$tmp/bad-type.yaml" "$top" "$tmp" >/dev/null 2>&1 &&
	{ echo "# a spec with type u17 passed the schema"; rc=1; }
python3 -c '
import sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
for s in y["attribute-sets"]:
    s["attributes"] = [a for a in s["attributes"] if a["name"] != "family"]
yaml.safe_dump(y, open(sys.argv[2], "w"), sort_keys=False)
' "$spec" "$tmp/no-family.yaml"
grep -q 'name: family$' "$tmp/no-family.yaml" && { echo "# could not remove an attribute"; rc=1; }
python3 "$tmp/check.py" header "$ksrc" "$tmp/no-family.yaml" "$top" "$tmp" >/dev/null 2>&1 &&
	{ echo "# a spec without the family attribute matched the header"; rc=1; }
result $rc checks_can_fail

[ "$ktap_fails" -eq 0 ]
