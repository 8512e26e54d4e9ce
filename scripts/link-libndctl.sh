#!/usr/bin/env bash
# link-libndctl.sh - link libndctl.so.6 from capi's static archive.
#
#   scripts/link-libndctl.sh [--release] [--out DIR]
#
# Builds ndctl-capi with cargo (dev profile unless --release), then links
#   DIR/libndctl.so.$LIBNDCTL_FILE_VERSION  (SONAME libndctl.so.6)
#   DIR/libndctl.so.6 -> libndctl.so.$LIBNDCTL_FILE_VERSION
#   DIR/libndctl.so   -> libndctl.so.6
# DIR defaults to the cargo profile directory (next to libndctl.a). Prints the path of
# the real file on stdout.
#
# Why not a cdylib: rustc hands the linker its own anonymous version script for every
# cdylib, which cannot be combined with libndctl's named nodes (GNU ld rejects it, rust-lld
# keeps every symbol unversioned). Linking the archive ourselves gives exactly libndctl's
# symbol versions with any linker.
#
# To link prebuilt artifacts without running cargo, set all of LIBNDCTL_A (libndctl_capi.a),
# LIBNDCTL_SYM (libndctl.sym) and LIBNDCTL_EXPORTS (libndctl-exports.ld), as the tests do.
set -euo pipefail

LIBNDCTL_FILE_VERSION=${LIBNDCTL_FILE_VERSION:-6.4.21}
here=$(cd "$(dirname "$0")/.." && pwd)
profile=debug
cargo_profile=()
out=""
while [ $# -gt 0 ]; do
    case $1 in
        --release) profile=release; cargo_profile=(--release) ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        *) echo "usage: $0 [--release] [--out DIR]" >&2; exit 64 ;;
    esac
    shift
done

if [ -n "${LIBNDCTL_A:-}" ] && [ -n "${LIBNDCTL_SYM:-}" ] && [ -n "${LIBNDCTL_EXPORTS:-}" ]; then
    archive=$LIBNDCTL_A sym=$LIBNDCTL_SYM exports=$LIBNDCTL_EXPORTS
    out=${out:-$(dirname "$archive")}
else
    target_dir=${CARGO_TARGET_DIR:-$here/target}
    (cd "$here" && cargo build -p ndctl-capi "${cargo_profile[@]}" >&2)
    archive=$target_dir/$profile/libndctl_capi.a
    sym=$target_dir/$profile/libndctl.sym
    exports=$target_dir/$profile/libndctl-exports.ld
    out=${out:-$target_dir/$profile}
fi
for f in "$archive" "$sym" "$exports"; do
    [ -f "$f" ] || { echo "link-libndctl: missing $f" >&2; exit 1; }
done

mkdir -p "$out"
real=libndctl.so.$LIBNDCTL_FILE_VERSION
# The libraries after the archive are what Rust's std needs on linux-gnu (rustc
# --print native-static-libs); --as-needed drops the unused ones. --no-undefined turns a
# missing native dependency into a link error instead of a broken library.
${CC:-cc} -shared -o "$out/$real.tmp" \
    -Wl,-soname,libndctl.so.6 \
    -Wl,--version-script="$sym" \
    "$exports" "$archive" \
    -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,--no-undefined -Wl,--as-needed \
    -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
mv -f "$out/$real.tmp" "$out/$real"
ln -sfn "$real" "$out/libndctl.so.6"
ln -sfn libndctl.so.6 "$out/libndctl.so"
echo "$out/$real"
