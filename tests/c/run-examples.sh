#!/usr/bin/env bash
# run-examples.sh - build the C examples (examples/c) through pkg-config and run them on
# captured trees under valgrind; each must exit as examples/c/expected.tsv says.
#
#   tests/c/run-examples.sh --debian            # Debian's libndctl (system pkg-config);
#                                               # runs in a private mount namespace, root
#   tests/c/run-examples.sh --ours DESTDIR      # our library installed into DESTDIR
#                                               # (scripts/install.sh); runs with NDCTL_ROOT
# Options: --prefix P (prefix used for the DESTDIR install, default /usr/local),
#          --libdir L (default PREFIX/lib), --no-valgrind.
# Exit status: 0 all as expected, 1 otherwise, 77 skipped (Debian side without root).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
side=""
destdir=""
prefix=/usr/local
libdir=""
valgrind=1
while [ $# -gt 0 ]; do
    case $1 in
        --debian) side=debian ;;
        --ours) side=ours; destdir=${2:?--ours needs the DESTDIR}; shift ;;
        --prefix) prefix=${2:?}; shift ;;
        --libdir) libdir=${2:?}; shift ;;
        --no-valgrind) valgrind=0 ;;
        *) echo "usage: $0 --debian | --ours DESTDIR [--prefix P] [--libdir L] [--no-valgrind]" >&2
           exit 64 ;;
    esac
    shift
done
[ -n "$side" ] || { echo "run-examples: say --debian or --ours DESTDIR" >&2; exit 64; }
libdir=${libdir:-$prefix/lib}

# The examples build through pkg-config like any libndctl user; a fresh machine gets it
# from Debian with the same script that fetches libndctl (it installs pkgconf).
if ! command -v pkg-config >/dev/null; then
    "$here/scripts/fetch-debian-libndctl.sh" > /dev/null || true
    command -v pkg-config >/dev/null ||
        { echo "run-examples: pkg-config is missing and could not be installed" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/examples/c/*.c "$here"/examples/c/*.h "$here"/examples/c/Makefile "$work/"

if [ "$side" = debian ]; then
    [ "$(id -u)" = 0 ] || { echo "SKIP examples on Debian's libndctl: needs root"; exit 77; }
    "$here/scripts/fetch-debian-libndctl.sh" > "$work/root" ||
        { echo "SKIP examples on Debian's libndctl: not available"; exit 77; }
    [ "$(tail -n1 "$work/root")" = / ] ||
        { echo "SKIP examples on Debian's libndctl: not installed system-wide"; exit 77; }
    make -s -C "$work" CFLAGS="-O2 -g -Werror"
    mode=--mount
else
    pcdir=$destdir$libdir/pkgconfig
    [ -f "$pcdir/libndctl.pc" ] || { echo "run-examples: no $pcdir/libndctl.pc" >&2; exit 1; }
    # The .pc file names the final prefix; the sysroot variable maps it into DESTDIR.
    PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_SYSROOT_DIR=$destdir \
        make -s -C "$work" CFLAGS="-O2 -g -Werror" LDFLAGS="-Wl,-rpath,$destdir$libdir"
    export LD_LIBRARY_PATH=$destdir$libdir
    mode=--root
fi

vg=()
if [ "$valgrind" = 1 ] && command -v valgrind >/dev/null; then
    # Leaks and invalid accesses are errors (exit 99), not just reports.
    vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
fi

failed=0
while IFS=$'\t' read -r capture want cmd; do
    case $capture in ''|'#'*) continue ;; esac
    read -r -a argv <<< "$cmd"
    argv[0]=$work/${argv[0]}
    got=0
    "$here/tests/c/with-capture.sh" "$mode" "$here/tests/fixtures/$capture" "${vg[@]}" "${argv[@]}" \
        > "$work/out" 2>&1 || got=$?
    if [ "$got" = "$want" ]; then
        printf 'ok   %-40s %s: %s\n' "$capture" "$cmd" "$(head -n1 "$work/out")"
    else
        printf 'FAIL %-40s %s: exit %s, expected %s\n' "$capture" "$cmd" "$got" "$want"
        sed 's/^/    /' "$work/out" | head -20
        failed=1
    fi
done < "$here/examples/c/expected.tsv"
exit $failed
