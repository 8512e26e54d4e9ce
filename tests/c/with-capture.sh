#!/usr/bin/env bash
# with-capture.sh - run a command against a captured sysfs tree.
#
#   tests/c/with-capture.sh --mount CAPTURE.tar.gz CMD [ARG...]
#       For the C libndctl, whose /sys and /dev are hard-coded: the command runs in a
#       private mount namespace with the capture's sys/ bind-mounted over /sys and a tmpfs
#       over /dev holding null/zero/random/urandom plus a node for every device the
#       capture's /sys/dev/{char,block} links name. Needs root. The host's /sys and /dev
#       are untouched. LD_LIBRARY_PATH is removed so that the program's RUNPATH decides
#       which libndctl it gets.
#   tests/c/with-capture.sh --root CAPTURE.tar.gz CMD [ARG...]
#       For our library: NDCTL_ROOT points at the unpacked capture, whose dev/ gets an empty
#       placeholder file per device node. No root needed.
#
# Files the kernel refused to read with ENXIO (sizes of idle seeds, some DIMM attributes;
# MANIFEST.tsv marks them "ERR:...No such device or address") are stored empty in a
# capture. Both libraries must see them unreadable, as on the live kernel, so they are
# removed: libndctl then takes its "unknown" default exactly as it does for ENXIO (an empty
# file would instead parse as 0 in libndctl and as garbage in ours).
#
# The capture is unpacked into a fresh temporary directory that is removed afterwards, so
# whatever the command writes (setters on a static tree) does not persist. Exits with the
# command's status.
set -euo pipefail

mode=${1:?usage: $0 --mount|--root CAPTURE.tar.gz CMD...}
cap=${2:?usage: $0 --mount|--root CAPTURE.tar.gz CMD...}
shift 2
[ $# -gt 0 ] || { echo "with-capture: no command" >&2; exit 64; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$cap"
awk -F'\t' '$1 == "f" && $4 ~ /^ERR:.*No such device or address/ { print substr($3, 2) }' \
    "$tmp/MANIFEST.tsv" | while IFS= read -r f; do rm -f "$tmp/$f"; done

# "name type major minor" for every device node the capture implies.
for kind in char block; do
    for link in "$tmp"/sys/dev/"$kind"/*; do
        [ -L "$link" ] || continue
        majmin=${link##*/}
        echo "$(basename "$(readlink "$link")") ${kind:0:1} ${majmin%%:*} ${majmin##*:}"
    done
done > "$tmp/.nodes"

rc=0
case $mode in
    --mount)
        [ "$(id -u)" = 0 ] || { echo "with-capture: --mount needs root" >&2; exit 77; }
        unshare -m --propagation private bash -c '
            set -e
            mount --bind "$1/sys" /sys
            mount -t tmpfs -o mode=755 capturedev /dev
            mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5
            mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9
            while read -r name type major minor; do
                [ -e "/dev/$name" ] || mknod -m 600 "/dev/$name" "$type" "$major" "$minor"
            done < "$1/.nodes"
            shift
            exec env -u LD_LIBRARY_PATH "$@"' with-capture "$tmp" "$@" || rc=$?
        ;;
    --root)
        mkdir -p "$tmp/dev"
        while read -r name _; do
            : > "$tmp/dev/$name"
        done < "$tmp/.nodes"
        NDCTL_ROOT=$tmp "$@" || rc=$?
        ;;
    *)
        echo "with-capture: unknown mode $mode" >&2
        exit 64
        ;;
esac
exit $rc
