#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --no-tree --strict over module/ and uapi/.  checkpatch is
# not in the headers package: take it, with the files it reads, out of
# Debian's linux-source-6.1 tarball once and keep it in build/checkpatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/build/checkpatch

if [ ! -x "$cache/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
	if [ -z "$tarball" ]; then
		[ "$(id -u)" -eq 0 ] || { echo "style: install linux-source-6.1" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.1 >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.1 >/dev/null; }
		tarball=/usr/src/linux-source-6.1.tar.xz
	fi
	mkdir -p "$cache"
	tar -xJf "$tarball" -C "$cache" --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

cd "$top"
perl "$cache/checkpatch.pl" --no-tree --strict --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
	-f $(ls module/*.[ch] | grep -v '\.mod\.c$') uapi/linux/*.h
