#!/usr/bin/env bash
# fetch-debian-libndctl.sh - make Debian's real libndctl (libndctl6 + libndctl-dev + ndctl)
# available for the differential tests and the source-compatibility check.
#
#   scripts/fetch-debian-libndctl.sh            print the sysroot (see below)
#   scripts/fetch-debian-libndctl.sh --ndctl    print the path of Debian's `ndctl` program,
#       unpacked with the libraries it links (libndctl6, libdaxctl1, libcxl1, json-c, ...)
#       into target/debian-ndctl/root (never installed system-wide). Run it with
#       LD_LIBRARY_PATH=<root>/usr/lib/<triplet> (the benchmark does), so that it loads
#       Debian's libndctl whatever is installed.
#
# Prints the sysroot in which the package files live on the last line of stdout:
#   "/"                      when the packages are (or got) installed system-wide
#   "<repo>/target/debian-libndctl/root"   when they could only be unpacked privately
#
# Order of attempts: already installed -> apt-get install (root) -> apt-get download +
# dpkg -x into a private directory (no root needed for the unpack). `apt-get update` runs at
# most once per invocation, and only if the first attempt cannot find the packages.
# Exit status 2 means "not obtainable here"; callers should skip with the printed reason.
set -euo pipefail

# pkgconf: the C examples and the install test build through pkg-config.
PKGS=(libndctl6 libndctl-dev ndctl libdaxctl1 pkgconf)
here=$(cd "$(dirname "$0")/.." && pwd)
private=${NDCTL_DEBIAN_ROOT:-$here/target/debian-libndctl}

if [ "${1:-}" = --ndctl ]; then
    # The program and every library it needs beyond libc, unpacked privately.
    tool=$here/target/debian-ndctl
    TOOL_PKGS=(ndctl libndctl6 libdaxctl1 libcxl1 libiniparser1 libjson-c5 libkeyutils1
               libtraceevent1 libtracefs1 libuuid1 libkmod2 libudev1)
    # Both the program and Debian's library: a directory holding only the program is an
    # older, partial unpack and is made again.
    if [ ! -x "$tool/root/usr/bin/ndctl" ] ||
        ! ls "$tool"/root/usr/lib/*/libndctl.so.6 >/dev/null 2>&1; then
        command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
            { echo "fetch-debian-libndctl: apt-get/dpkg not available" >&2; exit 2; }
        rm -rf "$tool" && mkdir -p "$tool/debs" "$tool/root"
        # apt-get download runs as _apt when it can: give it a directory it may write.
        chmod 777 "$tool/debs" 2>/dev/null || true
        (
            cd "$tool/debs"
            apt-get download "${TOOL_PKGS[@]}" >&2 ||
                { apt-get update -qq >&2 && apt-get download "${TOOL_PKGS[@]}" >&2; }
        ) || { echo "fetch-debian-libndctl: apt-get download of ndctl failed" >&2; exit 2; }
        for deb in "$tool"/debs/*.deb; do
            dpkg -x "$deb" "$tool/root"
        done
    fi
    [ -x "$tool/root/usr/bin/ndctl" ] ||
        { echo "fetch-debian-libndctl: no usr/bin/ndctl in the unpacked packages" >&2; exit 2; }
    echo "$tool/root/usr/bin/ndctl"
    exit 0
fi

have_system() {
    [ -f /usr/include/ndctl/libndctl.h ] && ls /usr/lib/*/libndctl.so >/dev/null 2>&1
}

if have_system; then
    echo /
    exit 0
fi

updated=0
apt_update_once() {
    if [ "$updated" = 0 ]; then
        apt-get update -qq >&2 || return 1
        updated=1
    fi
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PKGS[@]}" >&2; then
        apt_update_once && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PKGS[@]}" >&2 || true
    fi
    if have_system; then
        echo /
        exit 0
    fi
fi

# Private unpack: works without installing anything system-wide.
if [ -f "$private/root/usr/include/ndctl/libndctl.h" ]; then
    echo "$private/root"
    exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "fetch-debian-libndctl: apt-get/dpkg not available" >&2
    exit 2
fi
mkdir -p "$private/debs" "$private/root"
(
    cd "$private/debs"
    apt-get download "${PKGS[@]}" >&2 || { apt_update_once && apt-get download "${PKGS[@]}" >&2; }
) || { echo "fetch-debian-libndctl: apt-get download failed" >&2; exit 2; }
for deb in "$private"/debs/*.deb; do
    dpkg -x "$deb" "$private/root"
done
echo "$private/root"
