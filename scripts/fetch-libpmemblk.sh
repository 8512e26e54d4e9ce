#!/bin/sh
# Install PMDK's libpmemblk (the BTT bench's baseline) and pmempool (for the check-time
# comparison) from Debian when they are missing. Runs `apt-get update` once, then installs.
# Needs root; prints why and exits 1 otherwise.
set -eu

have_lib() { ldconfig -p 2>/dev/null | grep -q 'libpmemblk\.so\.1 '; }
have_tool() { command -v pmempool >/dev/null 2>&1; }

if have_lib && have_tool; then
    echo "libpmemblk and pmempool already installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "need root to apt-get install libpmemblk-dev pmdk-tools" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# libpmemblk-dev pulls in libpmemblk1 (the library the bench dlopens); pmdk-tools has pmempool.
apt-get install -y --no-install-recommends libpmemblk-dev pmdk-tools
have_lib && have_tool && echo "installed libpmemblk and pmempool"
