#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing tcpterm needs, from Debian's archive.
# Idempotent: with everything present it changes nothing and is quick.
set -euo pipefail

pkgs=(
	gcc make libc6-dev bc flex bison libelf-dev
	linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static iproute2 cpio kmod
	sparse xz-utils zstd perl debootstrap
	linux-source-6.1 libssl-dev
	dkms dh-dkms debhelper lintian
	libmnl-dev libjson-c-dev
	python3 python3-yaml python3-jsonschema
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root to install" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
