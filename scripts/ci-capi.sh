#!/usr/bin/env bash
# ci-capi.sh - the C library's part of .ci/run.
#
# `cargo test --workspace` already runs every C-library test (function table, exports at
# their version nodes and SONAME, prototypes against Debian's header, NULL arguments under
# valgrind, header freshness, the differential walk against Debian's libndctl on every
# capture, the DESTDIR install with the C examples under valgrind). This script prints the
# two summaries worth reading in a CI log: what is exported, and the differential walk
# with its documented deliberate differences.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test -q -p ndctl-capi --test abi -- --exact exports_sit_at_their_libndctl_nodes \
    --nocapture 2>/dev/null | grep -E '^exported|not exported \[object' || true
tests/c/run-differential.sh | tail -n 14
