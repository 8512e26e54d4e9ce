#!/usr/bin/env bash
# ci-capi.sh - the C library's part of .ci/run.
#
# `cargo test --workspace` already runs every C-library test (function table, exports at
# their version nodes and SONAME, prototypes against Debian's header, NULL arguments under
# valgrind, header freshness, the differential walk against Debian's libndctl on every
# capture, the DESTDIR install with the C examples under valgrind). This script prints the
# two summaries worth reading in a CI log: what is exported, and the differential walk
# with its documented deliberate differences; then it runs Debian's unmodified `ndctl` on
# both libraries over every capture (issue 8's done-when), which needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test -q -p ndctl-capi --test abi -- --exact exports_sit_at_their_libndctl_nodes \
    --nocapture 2>/dev/null | grep -E '^exported|not exported \[object' || true
tests/c/run-differential.sh | tail -n 14
# Debian's unmodified ndctl on our library versus on Debian's, on every capture (root: a
# private mount namespace puts the capture over /sys). 2 = a prerequisite is missing.
for args in "list -BDRNXi -vvv" "list -DH" "read-labels -j all" "check-labels all"; do
    rc=0
    # shellcheck disable=SC2086 # the arguments are words on purpose
    tests/c/ndctl-cli-diff.sh -- $args | tail -n 25 || rc=$?
    case $rc in
        0) ;;
        2) echo "SKIPPED: ndctl $args on both libraries (needs root and apt-get download)" ;;
        *) echo "ndctl $args differs between the two libraries"; exit 1 ;;
    esac
done
