#!/usr/bin/env bash
# run-differential.sh - the same C walker (tests/c/walk.c) over every real-kernel capture
# (the nine QEMU phases of tests/fixtures/kernel-6.1 and the three nfit_test phases of
# tests/fixtures/nfit_test-6.1), once on Debian's libndctl and once on ours; the sorted
# outputs must be identical.
#
#   tests/c/run-differential.sh [--ours LIBDIR | --no-ours] [--update-expected]
#                               [--cmd-sysfs] [--out DIR] [CAPTURE.tar.gz...]
#
# Debian side: walk.c built against Debian's libndctl (scripts/fetch-debian-libndctl.sh),
#   run in a private mount namespace with the capture bind-mounted over /sys and a tmpfs
#   /dev holding the capture's device nodes (tests/c/with-capture.sh --mount; needs root). Its sorted output must equal the
#   committed snapshot <fixture dir>/walk-expected/<phase>.txt, so a stale
#   snapshot is noticed; --update-expected rewrites the snapshots instead. Without root
#   or without Debian's library the snapshots stand in for the Debian side (a SKIP line
#   says so).
# Our side: walk.c built against include/ and LIBDIR/libndctl.so (default: link one with
#   scripts/link-libndctl.sh), run with NDCTL_ROOT=<unpacked capture> (placeholder dev/
#   entries created; tests/c/with-capture.sh --root), needs no root. --no-ours skips it.
#
# Snapshots always hold the --cmd-sysfs superset; lines of command-layer getters carry a
# " cmd." name prefix and are dropped unless --cmd-sysfs is given.
#
# Exit status: 0 all equal, 1 a difference or failure, 77 nothing could be compared.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
ours_lib=""
run_ours=1
update=0
cmd_sysfs=0
out=""
captures=()
while [ $# -gt 0 ]; do
    case $1 in
        --ours) ours_lib=${2:?--ours needs a directory}; shift ;;
        --no-ours) run_ours=0 ;;
        --update-expected) update=1 ;;
        --cmd-sysfs) cmd_sysfs=1 ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        -*) echo "run-differential: unknown option $1" >&2; exit 64 ;;
        *) captures+=("$1") ;;
    esac
    shift
done
[ ${#captures[@]} -gt 0 ] ||
    captures=("$here"/tests/fixtures/kernel-6.1/sysfs-*.tar.gz "$here"/tests/fixtures/nfit_test-6.1/sysfs-*.tar.gz)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${out:-$work/out}
mkdir -p "$out/debian" "$out/ours"
CC=${CC:-cc}
CFLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror)

# Keep or drop the command-layer lines of a sorted walk.
# Getters where we deliberately differ from libndctl because its value is a bug; each is
# listed with the reason in tests/c/known-differences.txt. Their lines are left out of the
# comparison on both sides and reported, so the exceptions stay visible in every run.
known=$here/tests/c/known-differences.txt
known_re=$(grep -v '^#' "$known" | awk 'NF { printf "%s(%s)", sep, $0; sep="|" }')
select_lines() {
    if [ "$cmd_sysfs" = 1 ]; then cat; else grep -v ' cmd\.' || true; fi |
        { grep -Ev "$known_re" || true; }
}

# --- Debian side: build --------------------------------------------------------------------
debian_walk=""
if [ "$(id -u)" != 0 ]; then
    echo "SKIP Debian side: needs root (unshare -m, mount, mknod); using the committed snapshots"
elif ! command -v unshare >/dev/null; then
    echo "SKIP Debian side: unshare(1) is missing; using the committed snapshots"
elif ! root=$("$here/scripts/fetch-debian-libndctl.sh" | tail -n1) || [ -z "$root" ]; then
    echo "SKIP Debian side: Debian's libndctl is not available; using the committed snapshots"
else
    inc=$root/usr/include
    libdir=$(dirname "$(ls "$root"/usr/lib/*/libndctl.so.6 "$root"/usr/lib/libndctl.so.6 2>/dev/null | head -n1)")
    debian_walk=$work/walk-debian
    "$CC" "${CFLAGS[@]}" -DWALK_CMD_SYSFS -I"$inc" "$here/tests/c/walk.c" -o "$debian_walk" \
        -L"$libdir" -Wl,-rpath,"$libdir" -lndctl
fi

# --- our side: build -----------------------------------------------------------------------
ours_walk=""
if [ "$run_ours" = 1 ]; then
    if [ -z "$ours_lib" ]; then
        so=$("$here/scripts/link-libndctl.sh" --out "$work/lib")
        ours_lib=$(dirname "$so")
    fi
    ours_walk=$work/walk-ours
    defs=()
    [ "$cmd_sysfs" = 1 ] && defs=(-DWALK_CMD_SYSFS)
    if ! "$CC" "${CFLAGS[@]}" "${defs[@]}" -I"$here/include" "$here/tests/c/walk.c" \
        -o "$ours_walk" -L"$ours_lib" -Wl,-rpath,"$ours_lib" -lndctl 2> "$work/ours-link.err"; then
        echo "FAIL our side: walk.c does not build against our library:"
        grep -E 'undefined reference|error' "$work/ours-link.err" | sed 's/^/    /' | head -20
        exit 1
    fi
fi

compared=0
failed=0
for tarball in "${captures[@]}"; do
    phase=$(basename "$tarball" .tar.gz)
    phase=${phase#sysfs-}
    expected_dir=$(cd "$(dirname "$tarball")" && pwd)/walk-expected
    expected=$expected_dir/$phase.txt
    # Phase names repeat across fixture sets: keep outputs apart by set.
    phase=$(basename "$(dirname "$expected_dir")")/$phase
    mkdir -p "$out/debian/${phase%/*}" "$out/ours/${phase%/*}"
    reference=""

    if [ -n "$debian_walk" ]; then
        if ! "$here/tests/c/with-capture.sh" --mount "$tarball" "$debian_walk" \
            > "$work/raw" 2> "$out/debian/$phase.err"; then
            echo "FAIL $phase: Debian walker failed:"
            head -n 10 "$out/debian/$phase.err" | sed 's/^/    /'
            failed=1
            continue
        fi
        LC_ALL=C sort "$work/raw" > "$out/debian/$phase.full.txt"
        if [ "$update" = 1 ]; then
            mkdir -p "$expected_dir"
            cp "$out/debian/$phase.full.txt" "$expected"
            echo "updated $expected"
        elif ! cmp -s "$out/debian/$phase.full.txt" "$expected"; then
            echo "FAIL $phase: Debian's libndctl no longer prints the committed snapshot:"
            { diff "$expected" "$out/debian/$phase.full.txt" || true; } | head -20 | sed 's/^/    /'
            failed=1
        fi
        select_lines < "$out/debian/$phase.full.txt" > "$out/debian/$phase.txt"
        reference=$out/debian/$phase.txt
    elif [ -f "$expected" ]; then
        select_lines < "$expected" > "$out/debian/$phase.txt"
        reference=$out/debian/$phase.txt
    else
        echo "FAIL $phase: no snapshot $expected and no Debian side to make one"
        failed=1
        continue
    fi

    if [ -n "$ours_walk" ]; then
        if ! LD_LIBRARY_PATH=$ours_lib "$here/tests/c/with-capture.sh" --root "$tarball" \
            "$ours_walk" > "$work/raw" 2> "$out/ours/$phase.err"; then
            echo "FAIL $phase: our walker failed:"
            head -n 10 "$out/ours/$phase.err" | sed 's/^/    /'
            failed=1
        fi
        LC_ALL=C sort "$work/raw" | select_lines > "$out/ours/$phase.txt"
        if cmp -s "$reference" "$out/ours/$phase.txt"; then
            echo "ok   $phase: $(wc -l < "$reference") lines identical"
        else
            echo "FAIL $phase: walk differs from libndctl (< libndctl, > ours):"
            { diff "$reference" "$out/ours/$phase.txt" || true; } | head -30 | sed 's/^/    /'
            failed=1
        fi
        compared=$((compared + 1))
    elif [ -n "$debian_walk" ]; then
        echo "ok   $phase: Debian's libndctl matches the snapshot ($(wc -l < "$reference") lines)"
        compared=$((compared + 1))
    fi
done

echo "not compared (deliberate differences, see tests/c/known-differences.txt): $known_re"
[ "$failed" = 0 ] || exit 1
[ "$compared" -gt 0 ] || { echo "SKIP: nothing was compared"; exit 77; }
exit 0
