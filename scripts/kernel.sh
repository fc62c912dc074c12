#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian kernels of the test matrix, fetched into the project's cache
# without touching the host's apt state, and the module built for them.
#
#   scripts/kernel.sh fetch NAME        print KVER, VMLINUZ, MODDIR, KDIR
#   scripts/kernel.sh build NAME DIR    build the module in DIR (a copy of
#                                       the sources), print the .ko path
#
# NAME    suite                where it builds
# 6.1     the host (bookworm)  on the host, Debian's installed headers
# 6.12    bookworm-backports   on the host: built with gcc-12, as ours
# 7.2     sid                  in a debootstrap'ed sid tree (cached): the
#                              headers want the compiler the kernel was
#                              built with, and their tools sid's libc
#
# The newest build of each series in its suite is used.  Downloads go
# through apt-get with a private sources list, state and cache directory
# (6.12), or through the sid tree's own apt (7.2), and are unpacked with
# dpkg -x under ${TCPTERM_CACHE:-/var/cache/tcpterm}/kernels/NAME.
# Everything is reused on the next run; only "apt-get update" is redone
# when its lists are older than a day.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TCPTERM_CACHE:-/var/cache/tcpterm}/kernels
mirror=${TCPTERM_MIRROR:-http://deb.debian.org/debian}

die() { echo "kernel: $*" >&2; exit 1; }
log() { echo "kernel: $*" >&2; }

cmd=${1:-}
name=${2:-}
case $name in
6.1 | 6.12 | 7.2) ;;
*) die "usage: $0 fetch|build 6.1|6.12|7.2 [DIR]" ;;
esac
dir=$cache/$name

# --- 6.1: the host's own Debian kernel -----------------------------------

host_kver() {
	ls -1 /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V | tail -n1
}

# --- 6.12: private apt on the host ----------------------------------------

papt() { # apt-get or apt-cache with the private configuration
	local tool=$1
	shift
	"$tool" -q -o Dir::Etc::SourceList="$dir/apt/sources.list" \
		-o Dir::Etc::SourceParts="$dir/apt/parts" \
		-o Dir::Etc::Preferences="$dir/apt/preferences" \
		-o Dir::Etc::PreferencesParts="$dir/apt/parts" \
		-o Dir::State="$dir/apt/state" \
		-o Dir::State::Status="$dir/apt/state/status" \
		-o Dir::Cache="$dir/apt/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

papt_update() { # suite
	mkdir -p "$dir"/apt/{parts,state/lists/partial,cache/archives/partial}
	: >>"$dir/apt/state/status"
	: >>"$dir/apt/preferences"
	echo "deb $mirror $1 main" >"$dir/apt/sources.list"
	if [ -z "$(find "$dir/apt/state/lists" -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		log "apt-get update ($1, private state in $dir/apt)"
		papt apt-get update >&2
	fi
}

# Newest "<series>.N+debM" that has amd64 headers, from a package list.
newest() { # series
	local re="^linux-headers-${1//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$"
	grep -E "$re" | sed -e 's/^linux-headers-//' -e 's/-amd64$//' | sort -V | tail -n1
}

unpack() { # root, .deb files...
	local root=$1 deb m
	shift
	mkdir -p "$root"
	for deb in "$@"; do
		dpkg -x "$deb" "$root"
	done
	# modules.dep is made at install time: make it here.
	for m in "$root"/lib/modules/* "$root"/usr/lib/modules/*; do
		[ -d "$m/kernel" ] && depmod -b "${m%/lib/modules/*}" "${m##*/}"
	done
	return 0
}

fetch_612() {
	local v pkgs img
	papt_update bookworm-backports
	v=$(papt apt-cache pkgnames linux-headers-6.12. | newest 6.12)
	[ -n "$v" ] || die "no 6.12 kernel in bookworm-backports"
	if [ ! -f "$dir/root-$v/.complete" ]; then
		img=linux-image-$v-amd64-unsigned
		papt apt-cache show "$img" >/dev/null 2>&1 || img=linux-image-$v-amd64
		pkgs=("$img" "linux-headers-$v-amd64" "linux-headers-$v-common"
		      "linux-kbuild-$v")
		log "downloading ${pkgs[*]}"
		rm -rf "$dir/debs" "$dir/root-$v"
		mkdir -p "$dir/debs"
		(cd "$dir/debs" && papt apt-get download "${pkgs[@]}" >&2)
		unpack "$dir/root-$v" "$dir"/debs/*.deb
		rm -rf "$dir/debs"
		# The arch headers include the common ones by absolute path.
		sed -i "s|/usr/src/|$dir/root-$v/usr/src/|" \
			"$dir/root-$v/usr/src/linux-headers-$v-amd64/Makefile"
		touch "$dir/root-$v/.complete"
	fi
	echo "$v"
}

# --- 7.2: a sid tree ------------------------------------------------------

in_sid() {
	chroot "$dir/sid" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}

sid_tree() {
	if [ ! -f "$dir/sid/.complete" ]; then
		command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/deps.sh"
		log "debootstrap sid into $dir/sid (once)"
		rm -rf "$dir/sid"
		mkdir -p "$dir"
		debootstrap --variant=minbase sid "$dir/sid" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed"; }
		touch "$dir/sid/.complete"
	fi
	if [ -z "$(find "$dir/sid/var/lib/apt/lists" -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		log "apt-get update in the sid tree"
		in_sid apt-get -q update >&2
	fi
}

fetch_72() {
	local v
	sid_tree
	v=$(in_sid apt-cache pkgnames linux-headers-7.2. | newest 7.2)
	[ -n "$v" ] || die "no 7.2 kernel in sid"
	if [ ! -f "$dir/root-$v/.complete" ]; then
		log "installing linux-headers-$v-amd64 (and its compiler) in the sid tree"
		in_sid apt-get -q install -y --no-install-recommends \
			"linux-headers-$v-amd64" make >&2
		log "downloading linux-binary-$v-amd64 linux-modules-$v-amd64"
		rm -rf "$dir/sid/tmp/debs" "$dir/root-$v"
		mkdir -p "$dir/sid/tmp/debs"
		in_sid sh -c "cd /tmp/debs && apt-get -q download linux-binary-$v-amd64 linux-modules-$v-amd64" >&2
		unpack "$dir/root-$v" "$dir"/sid/tmp/debs/*.deb
		rm -rf "$dir/sid/tmp/debs"
		touch "$dir/root-$v/.complete"
	fi
	echo "$v"
}

# --- commands -------------------------------------------------------------

describe() { # prints KVER VMLINUZ MODDIR KDIR
	local v kver
	case $name in
	6.1)
		kver=$(host_kver)
		[ -n "$kver" ] || die "no Debian kernel installed: run scripts/deps.sh"
		echo "KVER=$kver"
		echo "VMLINUZ=/boot/vmlinuz-$kver"
		echo "MODDIR=/lib/modules/$kver"
		echo "KDIR=/usr/src/linux-headers-$kver"
		return
		;;
	6.12) v=$(fetch_612) ;;
	7.2) v=$(fetch_72) ;;
	esac
	kver=$v-amd64
	echo "KVER=$kver"
	# Newer packages keep the image with the modules, under /usr.
	for m in "$dir/root-$v/lib/modules/$kver" "$dir/root-$v/usr/lib/modules/$kver"; do
		[ -d "$m" ] && echo "MODDIR=$m"
	done
	for z in "$dir/root-$v/boot/vmlinuz-$kver" "$dir/root-$v/usr/lib/modules/$kver/vmlinuz"; do
		[ -f "$z" ] && echo "VMLINUZ=$z"
	done
	if [ "$name" = 7.2 ]; then
		echo "KDIR=$dir/sid/usr/src/linux-headers-$kver"
	else
		echo "KDIR=$dir/root-$v/usr/src/linux-headers-$kver"
	fi
}

build() { # DIR
	local out=$1 KVER KDIR VMLINUZ MODDIR
	eval "$(describe)"
	mkdir -p "$out"
	rm -rf "$out/module" "$out/uapi"
	cp -a "$top/Kbuild" "$top/module" "$top/uapi" "$out/"
	if [ "$name" = 7.2 ]; then
		local b=/tmp/tcpterm-build
		rm -rf "$dir/sid$b"
		mkdir -p "$dir/sid$b"
		cp -a "$out/Kbuild" "$out/module" "$out/uapi" "$dir/sid$b/"
		# objtool reads /proc/self.
		mountpoint -q "$dir/sid/proc" || mount -t proc proc "$dir/sid/proc"
		trap 'umount "$dir/sid/proc" 2>/dev/null' EXIT
		in_sid make -C "/usr/src/linux-headers-$KVER" M="$b" W=1 modules >&2
		cp "$dir/sid$b/module/tcpterm.ko" "$out/module/"
	else
		# No BTF for the module: it needs pahole, and nothing reads it.
		make -C "$KDIR" M="$out" W=1 CONFIG_DEBUG_INFO_BTF_MODULES= modules >&2
	fi
	echo "$out/module/tcpterm.ko"
}

case $cmd in
fetch) describe ;;
build) [ -n "${3:-}" ] || die "build needs a directory"; build "$3" ;;
*) die "unknown command $cmd" ;;
esac
