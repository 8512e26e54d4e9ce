#!/usr/bin/env bash
# install.sh - build and install the C library: libndctl.so.6 with its soname links,
# libndctl.a, <ndctl/libndctl.h>, <ndctl/ndctl.h> and libndctl.pc.
#
#   scripts/install.sh [--debug] [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=...] [INCLUDEDIR=...]
#
# Variables may also come from the environment (as `make install` passes them). Defaults:
#   PREFIX=/usr/local  LIBDIR=$PREFIX/lib  INCLUDEDIR=$PREFIX/include
#   PKGCONFIGDIR=$LIBDIR/pkgconfig  DESTDIR= (staging root prepended to every path)
# --debug installs the dev-profile build (faster to build; used by the tests).
# LIBNDCTL_A, LIBNDCTL_SYM and LIBNDCTL_EXPORTS, all set, install those prebuilt artifacts
# instead of running cargo (see scripts/link-libndctl.sh; the tests do this).
# LIBNDCTL_PC_VERSION sets the pkg-config Version (default 81: the libndctl release whose
# ABI, LIBNDCTL_1 .. LIBNDCTL_28, and header this library reproduces).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
profile=release
for a in "$@"; do
    case $a in
        --debug) profile=debug ;;
        PREFIX=*|DESTDIR=*|LIBDIR=*|INCLUDEDIR=*|PKGCONFIGDIR=*) export "${a?}" ;;
        *) echo "usage: $0 [--debug] [PREFIX=..] [DESTDIR=..] [LIBDIR=..] [INCLUDEDIR=..]" >&2
           exit 64 ;;
    esac
done
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
PKGCONFIGDIR=${PKGCONFIGDIR:-$LIBDIR/pkgconfig}
VERSION=${LIBNDCTL_PC_VERSION:-81}
# What a static link against libndctl.a needs besides the archive (Rust's std).
LIBS_PRIVATE="-lpthread -ldl -lm -lrt -lutil -lgcc_s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
link_args=(--out "$work")
[ "$profile" = release ] && link_args+=(--release)
so=$("$here/scripts/link-libndctl.sh" "${link_args[@]}")
real=$(basename "$so")
archive=${LIBNDCTL_A:-${CARGO_TARGET_DIR:-$here/target}/$profile/libndctl_capi.a}
[ -f "$archive" ] || { echo "install: $archive was not built" >&2; exit 1; }

install -d "$DESTDIR$LIBDIR" "$DESTDIR$INCLUDEDIR/ndctl" "$DESTDIR$PKGCONFIGDIR"
install -m 0755 "$so" "$DESTDIR$LIBDIR/$real"
ln -sfn "$real" "$DESTDIR$LIBDIR/libndctl.so.6"
ln -sfn libndctl.so.6 "$DESTDIR$LIBDIR/libndctl.so"
install -m 0644 "$archive" "$DESTDIR$LIBDIR/libndctl.a"
install -m 0644 "$here/include/ndctl/libndctl.h" "$here/include/ndctl/ndctl.h" \
    "$DESTDIR$INCLUDEDIR/ndctl/"
sed -e "s|@prefix@|$PREFIX|" -e "s|@libdir@|$LIBDIR|" -e "s|@includedir@|$INCLUDEDIR|" \
    -e "s|@VERSION@|$VERSION|" -e "s|@LIBS_PRIVATE@|$LIBS_PRIVATE|" \
    "$here/ndctl.pc.in" > "$work/libndctl.pc"
install -m 0644 "$work/libndctl.pc" "$DESTDIR$PKGCONFIGDIR/libndctl.pc"

for f in "$LIBDIR/$real" "$LIBDIR/libndctl.so.6" "$LIBDIR/libndctl.so" "$LIBDIR/libndctl.a" \
    "$INCLUDEDIR/ndctl/libndctl.h" "$INCLUDEDIR/ndctl/ndctl.h" "$PKGCONFIGDIR/libndctl.pc"; do
    echo "installed $DESTDIR$f"
done
