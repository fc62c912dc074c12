#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the Debian packages of the tree, in build/deb/ (DEB_DIR):
#
#   tcpterm-dkms_<version>_all.deb   the module's source, built by DKMS
#   tcpterm-dev_<version>_all.deb    <linux/tcpterm.h>, tcpterm(7)
#   tcpterm_<version>.dsc, .tar.xz   the source package
#   tcpterm_<version>_<arch>.changes, .buildinfo, build.log
#
# Built from the make dist tarball, so the packages hold what a release
# holds, with its version (scripts/version.sh).  Needs dpkg-dev,
# debhelper and dh-dkms (scripts/deps.sh installs them); root is not.
# The .changes file is the last line.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd -P)
out=${DEB_DIR:-$top/build/deb}

for tool in dpkg-buildpackage dh dh_dkms; do
	command -v "$tool" >/dev/null ||
		{ echo "deb: $tool missing: run scripts/deps.sh" >&2; exit 1; }
done

tarball=$("$top/scripts/dist.sh" | tail -n1)
name=$(basename "$tarball" .tar.xz)
v=${name#tcpterm-}

rm -rf "$out"
mkdir -p "$out/src"
tar -C "$out/src" -xJf "$tarball"
echo "deb: building tcpterm $v (log: $out/build.log)" >&2
if ! (cd "$out/src/$name" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.dsc "$out"/src/*.tar.xz \
	"$out"/src/*.buildinfo "$out"/src/*.changes "$out/"
rm -rf "$out/src"
ls -1 "$out"/*.deb >&2
ls -1 "$out"/*.changes
