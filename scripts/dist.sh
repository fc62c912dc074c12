#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make dist: build/dist/tcpterm-<version>.tar.xz, a release tarball of the
# tree: the files git knows, as they are in the working tree (tracked
# ones, and new ones not ignored), plus the version in three places:
#
#   VERSION           the version (scripts/version.sh); where there is no
#                     git history, the module's build (Kbuild) and
#                     scripts/version.sh read it from here
#   dkms.conf         that version in place of #MODULE_VERSION#
#   debian/changelog  the top entry carries that version: an UNRELEASED
#                     entry takes it, with the commit's date; a released
#                     entry of another version gets a snapshot entry above
#
# The tarball builds with make, installs with dkms once unpacked in
# /usr/src (README), and is the Debian source of make deb.  DIST_DIR
# chooses the output directory; the tarball's path is the last line.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top"
out=${DIST_DIR:-$top/build/dist}
v=$(scripts/version.sh)
name=tcpterm-$v

mkdir -p "$out"
stage=$(mktemp -d "$out/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"

# The files: what git knows, or, in a release tree, everything but the
# build outputs.
git_tree=
if [ "$(git -c safe.directory="$top" rev-parse --show-toplevel 2>/dev/null)" = "$top" ]; then
	git_tree=y
	git -c safe.directory="$top" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -f "$f" ] && printf '%s\0' "$f"	# not the deleted ones
		done >"$stage/files"
else
	find . -path ./build -prune -o -type f ! -name VERSION -printf '%P\0' >"$stage/files"
fi
tar -C "$top" --null -T "$stage/files" -cf - | tar -C "$stage/$name" -xf -
rm "$stage/files"
src=$stage/$name

echo "$v" >"$src/VERSION"
sed -i "s/#MODULE_VERSION#/$v/" "$src/dkms.conf"

# The date: the commit's, for a tree as committed (reproducible); now for
# a changed one.
epoch=$(date +%s)
case $v in
*.dirty) ;;
*) [ -n "$git_tree" ] && epoch=$(git -c safe.directory="$top" log -1 --format=%ct) ;;
esac

cl=$src/debian/changelog
read -r top_version top_dist < <(sed -n '1s/^tcpterm (\([^)]*\)) \([^;]*\);.*/\1 \2/p' "$cl")
[ -n "$top_version" ] || { echo "dist: cannot read the top entry of debian/changelog" >&2; exit 1; }
if [ "$top_dist" = UNRELEASED ] || [ "$top_version" != "$v" ]; then
	if [ "$top_dist" = UNRELEASED ]; then
		# The entry below the top one, if any, must stay older.
		prev=$(awk '/^ -- / && ++n == 2 { sub(/^ -- .*>  /, ""); print; exit }' "$cl")
		body=$(awk 'NR > 1 && /^ -- / { exit } NR > 1' "$cl")
		rest=$(awk 'f; /^ -- / && !f { f = 1 }' "$cl")
	else
		prev=$(awk '/^ -- / { sub(/^ -- .*>  /, ""); print; exit }' "$cl")
		hash=$(git -c safe.directory="$top" rev-parse --short=12 HEAD 2>/dev/null || true)
		body=$(printf '\n  * Snapshot%s (make dist).\n' "${hash:+ of git commit $hash}")
		rest=$(cat "$cl")
	fi
	if [ -n "$prev" ]; then
		p=$(date -d "$prev" +%s)
		[ "$epoch" -gt "$p" ] || epoch=$((p + 1))
	fi
	maint=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
	{
		echo "tcpterm ($v) UNRELEASED; urgency=medium"
		echo "$body"
		echo ""
		echo " -- $maint  $(LC_ALL=C date -u -R -d "@$epoch")"
		if [ -n "$rest" ]; then
			echo ""
			echo "$rest"
		fi
	} >"$cl.new"
	mv "$cl.new" "$cl"
fi

tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$epoch" -cJf "$out/$name.tar.xz.tmp" "$name"
mv "$out/$name.tar.xz.tmp" "$out/$name.tar.xz"
echo "$out/$name.tar.xz"
