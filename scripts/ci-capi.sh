#!/usr/bin/env bash
# ci-capi.sh - the C library's part of .ci/run (which calls it when it is executable).
#
# `cargo test --workspace` already runs capi's regular tests: function table, exports at
# their version nodes, SONAME, prototypes, NULL arguments under valgrind, header freshness,
# constants vs Debian's headers, misc helpers vs Debian's library, the Debian side of the
# differential walk, the DESTDIR install and the examples on Debian's libndctl.
#
# The issue's done-when tests (all 259 object-layer functions exported, our walk equal to
# libndctl's on every capture, the examples passing on our DESTDIR install) are #[ignore]d
# until the object layer is exported. This script runs them as soon as it is, and until
# then prints what is missing so that the state is visible in every CI log.
set -euo pipefail
cd "$(dirname "$0")/.."

done_when=(
    "abi every_object_layer_function_is_exported"
    "differential_walk walk_equals_libndctl_on_all_captures"
    "install examples_pass_on_our_library_from_a_destdir_install"
)

if cargo test -q -p ndctl-capi --test abi -- --ignored --exact \
    every_object_layer_function_is_exported > /dev/null 2>&1; then
    for t in "${done_when[@]}"; do
        read -r bin name <<< "$t"
        echo "-- $bin::$name"
        cargo test -q -p ndctl-capi --test "$bin" -- --ignored --exact "$name" --nocapture
    done
else
    echo "PENDING: the object layer is not fully exported yet; done-when tests not run."
    cargo test -q -p ndctl-capi --test abi -- --exact exports_sit_at_their_libndctl_nodes \
        --nocapture 2>/dev/null | grep -E '^exported|^  not exported \[object' || true
fi
