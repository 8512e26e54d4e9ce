#!/usr/bin/env bash
# ndctl-cli-diff.sh - Debian's unmodified ndctl CLI on our libndctl.so.6 versus on Debian's
# libndctl, on every capture: `ndctl list -BDRNXi -vvv` (or the arguments given after --)
# must print the same stdout and stderr. Both sides run in a private mount namespace with
# the capture over /sys (tests/c/with-capture.sh --mount), so this needs root.
#
#   tests/c/ndctl-cli-diff.sh [--lib DIR] [-- NDCTL-ARGS...]
#
# DIR holds our libndctl.so.6 (default: target/debug after scripts/link-libndctl.sh).
# Debian's ndctl and the libraries it links are unpacked privately under
# target/debian-ndctl by scripts/fetch-debian-libndctl.sh --ndctl; nothing is installed.
# Exits 1 on any difference, 2 when a prerequisite is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
lib=$here/target/debug
args=(list -BDRNXi -vvv)
while [ $# -gt 0 ]; do
    case $1 in
        --lib) lib=$2; shift 2 ;;
        --) shift; args=("$@"); break ;;
        *) echo "usage: $0 [--lib DIR] [-- NDCTL-ARGS...]" >&2; exit 64 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (private mount namespaces)"; exit 2; }
[ -e "$lib/libndctl.so.6" ] || "$here/scripts/link-libndctl.sh" > /dev/null

# Debian's ndctl with every library it links, Debian's libndctl among them, unpacked
# privately by the one script that fetches Debian's packages.
ndctl=$("$here/scripts/fetch-debian-libndctl.sh" --ndctl | tail -n 1) ||
    { echo "SKIP: Debian's ndctl is not obtainable here"; exit 2; }
extra=$(dirname "$(dirname "$ndctl")")/lib/x86_64-linux-gnu
[ -e "$extra/libndctl.so.6" ] || { echo "no libndctl.so.6 in $extra" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
same=0 total=0 bad=0
for cap in "$here"/tests/fixtures/*/sysfs-*.tar.gz; do
    total=$((total + 1))
    "$here/tests/c/with-capture.sh" --mount "$cap" env LD_LIBRARY_PATH="$extra" \
        "$ndctl" "${args[@]}" > "$work/deb.out" 2> "$work/deb.err" || true
    "$here/tests/c/with-capture.sh" --mount "$cap" env LD_LIBRARY_PATH="$lib:$extra" \
        "$ndctl" "${args[@]}" > "$work/ours.out" 2> "$work/ours.err" || true
    if cmp -s "$work/deb.out" "$work/ours.out" && cmp -s "$work/deb.err" "$work/ours.err"; then
        same=$((same + 1))
    else
        bad=1
        echo "== $(basename "$(dirname "$cap")")/$(basename "$cap")"
        diff "$work/deb.out" "$work/ours.out" | head -20 || true
        diff "$work/deb.err" "$work/ours.err" | head -10 || true
    fi
done
echo "ndctl ${args[*]}: identical stdout and stderr on $same of $total captures"
exit $bad
