#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print tcpterm's version: the one version of the module (MODULE_VERSION,
# modinfo), DKMS (dkms.conf) and the Debian packages (debian/changelog).
#
# In a git checkout, from git describe:
#   at a tag vX.Y                    X.Y
#   N commits after it               X.Y+gitN.gHASH
#   no tag yet                       0.0+gitN.gHASH  (N commits in all)
#   files changed or added           the above, then ".dirty"
# Anywhere else (a release tarball, a DKMS source tree) from the file
# VERSION next to this script's directory, which make dist writes.
#
# The result is a valid Debian upstream version and DKMS PACKAGE_VERSION
# (digits first; letters, digits, ".", "+", "~").  Exits 1, printing
# nothing, when there is no version to be had.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd -P)
valid='^[0-9][A-Za-z0-9.+~]*$'

# safe.directory: "sudo make install" in a user's checkout must still see
# the history (git refuses a repository another user owns).
g() { git -c safe.directory="$top" -C "$top" "$@"; }

# Only the project's own repository counts: a tarball unpacked inside
# some other checkout must not take that checkout's history.
if command -v git >/dev/null 2>&1 &&
	[ "$(g rev-parse --show-toplevel 2>/dev/null)" = "$top" ]; then
	if d=$(g describe --tags --match 'v[0-9]*' --long --abbrev=12 2>/dev/null); then
		hash=${d##*-}		# gHASH
		d=${d%-*}
		n=${d##*-}		# commits since the tag
		tag=${d%-*}
		v=${tag#v}
		[ "$n" = 0 ] || v=$v+git$n.$hash
	else
		v=0.0+git$(g rev-list --count HEAD).g$(g rev-parse --short=12 HEAD)
	fi
	# Changed: what make dist would take differs from the commit (a
	# tracked file changed, or a new file not ignored).
	[ -z "$(g status --porcelain 2>/dev/null)" ] || v=$v.dirty
elif [ -f "$top/VERSION" ]; then
	v=$(head -n1 "$top/VERSION")
else
	echo "version: no git history and no VERSION file in $top" >&2
	exit 1
fi

if ! echo "$v" | grep -Eq "$valid"; then
	echo "version: \"$v\" is not a valid version (tag vX.Y, or VERSION)" >&2
	exit 1
fi
echo "$v"
