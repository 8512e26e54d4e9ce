#!/usr/bin/env bash
# tests/kernel/run.sh - the project's real-kernel tests.
#
#   tests/kernel/run.sh [qemu] [nfit]        (default: both platforms, one boot each)
#
# Boots Debian's stock 6.1 kernel under QEMU (TCG: KVM does not work on the PVM hosts this
# project runs on) and runs the project's binaries inside the guest against the live
# libnvdimm sysfs, with Debian's real ndctl beside them as the oracle:
#   qemu  four emulated ACPI NVDIMMs: v1.1-labelled, label-less, v1.2-labelled, and a large
#         sparse label-less one whose BTT needs two arenas
#   nfit  the kernel's nfit_test mock (nfit_test.0 / nfit_test.1), built here out of tree
#         from Debian's headers and linux-source
# Prints a table of named checks (PASS/FAIL) per platform; exit status 0 only if every
# check passed on every platform. Results: target/kernel-tests/<platform>/ (checks.tsv,
# console.log, guest.log, dmesg.txt, list JSON of failed comparisons).
#
# What it needs: amd64 Debian 12 (bookworm) with apt-get and dpkg, access to the Debian
# archive on the first run (root for `apt-get update` if the lists are stale), cargo, cc,
# make and gcc-12 (the compiler Debian built the kernel with, for nfit_test). Nothing is
# installed on the host: every package is fetched with `apt-get download` and unpacked.
#
# Environment:
#   NDCTL_KERNEL_CACHE  downloads and unpacked trees (default target/kernel-cache)
#   NDCTL_DEB_CACHE     machine-wide .deb cache shared between clones
#                       (default /var/cache/ndctl-rs/debs when writable; "" disables)
#   NDCTL_KERNEL_PKG    kernel image package (default: what linux-image-amd64 depends on)
#   NDCTL_BOOT_TIMEOUT  seconds one guest may run before QEMU is killed (default 1500)
#   NDCTL_SKIP_KERNEL_TESTS=1   do not run (prints that loudly, exits 0) - for machines that
#                       cannot boot a guest; without it, a missing prerequisite is a failure
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kt=$here/tests/kernel
CACHE=${NDCTL_KERNEL_CACHE:-$here/target/kernel-cache}
OUTROOT=$here/target/kernel-tests
BOOT_TIMEOUT=${NDCTL_BOOT_TIMEOUT:-1500}
if [ -z "${NDCTL_DEB_CACHE+x}" ]; then
    NDCTL_DEB_CACHE=/var/cache/ndctl-rs/debs
fi

log() { printf '[kernel-tests %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
    log "CANNOT RUN: $*"
    log "(set NDCTL_SKIP_KERNEL_TESTS=1 to skip the kernel tests deliberately)"
    exit 1
}

if [ "${NDCTL_SKIP_KERNEL_TESTS:-0}" = 1 ]; then
    echo "########################################################################" >&2
    echo "## NDCTL_SKIP_KERNEL_TESTS=1: the real-kernel tests are SKIPPED.      ##" >&2
    echo "## Nothing was booted; nothing about the live-kernel paths is proven. ##" >&2
    echo "########################################################################" >&2
    exit 0
fi

platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(qemu nfit)
for p in "${platforms[@]}"; do
    case $p in qemu | nfit) ;; *) echo "usage: $0 [qemu] [nfit]" >&2; exit 64 ;; esac
done

[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host (the guest is Debian amd64)"
for t in apt-get apt-cache dpkg cargo cc make gzip timeout; do
    command -v "$t" >/dev/null || die "$t not found"
done

# ------------------------------------------------------------------ downloads
debs=$CACHE/debs
mkdir -p "$debs"
if [ -n "$NDCTL_DEB_CACHE" ] && ! mkdir -p "$NDCTL_DEB_CACHE" 2>/dev/null; then
    NDCTL_DEB_CACHE=""
fi
apt_updated=0

# find_deb NAME [VERSION]: the cached .deb of NAME (of VERSION if given), or nothing
find_deb() {
    local v=${2:-}
    v=${v//:/%3a}
    ls "$debs/${1}_${v:+$v}"*_*.deb 2>/dev/null | head -1 || true
}

# fetch SPEC...: SPEC is NAME or NAME=VERSION; fetch what is not cached yet
fetch() {
    local spec name ver need=()
    for spec in "$@"; do
        name=${spec%%=*}
        ver=""
        [ "$spec" = "$name" ] || ver=${spec#*=}
        [ -n "$(find_deb "$name" "$ver")" ] && continue
        if [ -n "$NDCTL_DEB_CACHE" ]; then
            local v=${ver//:/%3a} f
            f=$(ls "$NDCTL_DEB_CACHE/${name}_${v:+$v}"*_*.deb 2>/dev/null | head -1 || true)
            if [ -n "$f" ]; then
                cp "$f" "$debs/"
                continue
            fi
        fi
        need+=("$spec")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    log "apt-get download ${need[*]}"
    if ! (cd "$debs" && apt-get download -q "${need[@]}" >/dev/null 2>"$debs/.apt-err"); then
        if [ $apt_updated = 0 ] && [ "$(id -u)" = 0 ]; then
            log "apt-get update (the package lists did not know everything)"
            apt-get update -qq >&2 || die "apt-get update failed"
            apt_updated=1
            (cd "$debs" && apt-get download -q "${need[@]}" >/dev/null 2>"$debs/.apt-err") ||
                die "apt-get download failed: $(grep -v unsandboxed "$debs/.apt-err" | tail -3)"
        else
            die "apt-get download failed: $(grep -v unsandboxed "$debs/.apt-err" | tail -3)"
        fi
    fi
    if [ -n "$NDCTL_DEB_CACHE" ]; then
        for spec in "${need[@]}"; do
            cp -n "$(find_deb "${spec%%=*}")" "$NDCTL_DEB_CACHE/" 2>/dev/null || true
        done
    fi
}

deb() {
    local f
    f=$(find_deb "$@")
    [ -n "$f" ] || die "no .deb for $*"
    echo "$f"
}

# The kernel: what linux-image-amd64 depends on (6.1.0-56-amd64 when these tests were
# written), remembered in the cache so a second run asks apt nothing.
if [ -n "${NDCTL_KERNEL_PKG:-}" ]; then
    KPKG=$NDCTL_KERNEL_PKG
elif [ -f "$CACHE/kernel-package" ]; then
    KPKG=$(cat "$CACHE/kernel-package")
else
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [ -n "$KPKG" ] || die "apt-cache cannot resolve linux-image-amd64 (run apt-get update as root)"
fi
KVER=${KPKG#linux-image-}
if [ -f "$CACHE/kernel-version.$KVER" ]; then
    KDEBVER=$(cat "$CACHE/kernel-version.$KVER")
else
    KDEBVER=$(apt-cache show "$KPKG" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [ -n "$KDEBVER" ] || die "apt-cache does not know $KPKG"
fi
echo "$KPKG" > "$CACHE/kernel-package"
echo "$KDEBVER" > "$CACHE/kernel-version.$KVER"
ABI=${KVER%-amd64}          # 6.1.0-56
SERIES=${ABI%.0-*}          # 6.1

QEMU_PKGS=(qemu-system-x86 qemu-system-common qemu-system-data seabios libcapstone4 libfdt1
    libibverbs1 libpmem1 librdmacm1 libslirp0 libvdeplug2 libnl-3-200 libnl-route-3-200)
TOOL_PKGS=(kmod libkmod2)
GUEST_PKGS=(busybox-static ndctl daxctl libndctl6 libdaxctl1 libcxl1 libiniparser1 libjson-c5
    libkeyutils1 keyutils libtraceevent1 libtracefs1 kmod libkmod2 libudev1 libuuid1 libc6
    liblzma5 libssl3 libzstd1 libgcc-s1
    pmdk-tools libpmem1 libpmemobj1 libpmempool1 libpmemblk1 libpmemlog1)
# (pmdk-tools: PMDK's pmempool, whose badblock path goes through libndctl, is run in the
# nfit_test guest on both libraries after an error injection.)
NFIT_PKGS=("linux-source-$SERIES=$KDEBVER" "linux-headers-$KVER=$KDEBVER"
    "linux-headers-$ABI-common=$KDEBVER" "linux-kbuild-$SERIES")
# (linux-kbuild is not pinned: the archive keeps only the newest build of it, and its
# fixdep/modpost do not change within one upstream version.)
want=("${QEMU_PKGS[@]}" "${TOOL_PKGS[@]}" "${GUEST_PKGS[@]}" "$KPKG=$KDEBVER")
[[ " ${platforms[*]} " == *" nfit "* ]] && want+=("${NFIT_PKGS[@]}")
t0=$SECONDS
fetch "${want[@]}"
log "packages ready ($((SECONDS - t0)) s): kernel $KPKG $KDEBVER"

# ------------------------------------------------------------------ unpack (once per deb set)
# unpack DIR PKG...: dpkg -x the packages into DIR unless DIR already holds exactly them
unpack() {
    local dir=$1 p list=""
    shift
    for p in "$@"; do list+="$(basename "$(deb "${p%%=*}" "$([ "$p" = "${p%%=*}" ] || echo "${p#*=}")")") "; done
    if [ -f "$dir/.debs" ] && [ "$(cat "$dir/.debs")" = "$list" ]; then
        return 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    for p in "$@"; do
        dpkg -x "$(deb "${p%%=*}" "$([ "$p" = "${p%%=*}" ] || echo "${p#*=}")")" "$dir"
    done
    printf '%s' "$list" > "$dir/.debs"
}
t0=$SECONDS
unpack "$CACHE/qemu" "${QEMU_PKGS[@]}"
unpack "$CACHE/tools" "${TOOL_PKGS[@]}"
unpack "$CACHE/kernel" "$KPKG=$KDEBVER"
unpack "$CACHE/guest-base" "${GUEST_PKGS[@]}"
log "unpacked ($((SECONDS - t0)) s)"

QEMU=$CACHE/qemu/usr/bin/qemu-system-x86_64
QLIB=$CACHE/qemu/usr/lib/x86_64-linux-gnu:$CACHE/qemu/lib/x86_64-linux-gnu
export QEMU_MODULE_DIR=$CACHE/qemu/usr/lib/x86_64-linux-gnu/qemu
if LD_LIBRARY_PATH=$QLIB ldd "$QEMU" | grep -q 'not found'; then
    die "the unpacked QEMU misses host libraries: $(LD_LIBRARY_PATH=$QLIB ldd "$QEMU" | grep 'not found' | tr '\n' ' ')"
fi
LD_LIBRARY_PATH=$QLIB "$QEMU" --version > /dev/null || die "the unpacked QEMU does not run"
TLIB=$CACHE/tools/lib/x86_64-linux-gnu:$CACHE/tools/usr/lib/x86_64-linux-gnu
ln -sf kmod "$CACHE/tools/bin/depmod"
depmod() { LD_LIBRARY_PATH=$TLIB "$CACHE/tools/bin/depmod" "$@"; }
KMOD=$CACHE/kernel/lib/modules/$KVER
VMLINUZ=$CACHE/kernel/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "no $VMLINUZ in $KPKG"
[ -f "$KMOD/modules.dep" ] || depmod -b "$CACHE/kernel" "$KVER"
BUSYBOX=$CACHE/guest-base/bin/busybox

# ------------------------------------------------------------------ nfit_test modules
build_nfit_test() {
    local src=$CACHE/nfit-src stamp
    stamp="$KDEBVER $(sha256sum "$kt/run.sh" | cut -c1-16)"
    if [ -f "$src/built/.stamp" ] && [ "$(cat "$src/built/.stamp")" = "$stamp" ]; then
        return 0
    fi
    command -v gcc-12 > /dev/null || die "gcc-12 (the compiler of Debian's 6.1 kernel) is needed for nfit_test"
    log "building nfit_test out of tree"
    local t=$SECONDS
    unpack "$CACHE/kheaders" "${NFIT_PKGS[@]}"
    local H=$CACHE/kheaders/usr/src/linux-headers-$KVER
    local C=$CACHE/kheaders/usr/src/linux-headers-$ABI-common
    # The amd64 headers Makefile includes the common tree by its installed absolute path.
    echo "include $C/Makefile" > "$H/Makefile"
    rm -rf "$src"
    mkdir -p "$src"
    tar -xJf "$CACHE/kheaders/usr/src/linux-source-$SERIES.tar.xz" -C "$src" --strip-components=1 \
        "linux-source-$SERIES/drivers/nvdimm" "linux-source-$SERIES/drivers/dax" \
        "linux-source-$SERIES/drivers/acpi/nfit" "linux-source-$SERIES/tools/testing/nvdimm"
    # nfit_test's Kbuild adds -I$(srctree)/drivers/{nvdimm,acpi/nfit}: srctree is the
    # headers tree, which has no drivers/, so lend it the extracted sources.
    mkdir -p "$C/drivers/acpi"
    ln -sfn "$src/drivers/nvdimm" "$C/drivers/nvdimm"
    ln -sfn "$src/drivers/dax" "$C/drivers/dax"
    ln -sfn "$src/drivers/acpi/nfit" "$C/drivers/acpi/nfit"
    make -s -C "$H" M="$src/tools/testing/nvdimm" -j2 modules > "$CACHE/nfit-build.log" 2>&1 ||
        { tail -20 "$CACHE/nfit-build.log" >&2; die "the nfit_test build failed (log: $CACHE/nfit-build.log)"; }
    mkdir -p "$src/built"
    local ko
    for ko in $(cd "$src/tools/testing/nvdimm" && find . -name '*.ko'); do
        strip --strip-debug -o "$src/built/$(basename "$ko")" "$src/tools/testing/nvdimm/$ko"
    done
    for ko in nfit_test nfit_test_iomap libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax; do
        [ -f "$src/built/$ko.ko" ] || die "nfit_test build produced no $ko.ko"
    done
    echo "$stamp" > "$src/built/.stamp"
    log "nfit_test built ($((SECONDS - t)) s)"
}

# ------------------------------------------------------------------ guest binaries
build_guest_binaries() {
    local t=$SECONDS
    log "building the project's guest binaries (release)"
    (cd "$here" && cargo build -q --release --example list --example btt --example kernel_checks \
        --example cmd_groups_rs) ||
        die "cargo build of the guest binaries failed"
    local so
    so=$("$here/scripts/link-libndctl.sh" --release) || die "linking libndctl.so.6 failed"
    GUEST_BIN=$OUTROOT/bin
    rm -rf "$GUEST_BIN"
    mkdir -p "$GUEST_BIN/lib"
    cp "$here/target/release/examples/list" "$here/target/release/examples/btt" \
        "$here/target/release/examples/kernel_checks" "$here/target/release/examples/cmd_groups_rs" \
        "$GUEST_BIN/"
    cp "$so" "$GUEST_BIN/lib/"
    ln -s "$(basename "$so")" "$GUEST_BIN/lib/libndctl.so.6"
    ln -s libndctl.so.6 "$GUEST_BIN/lib/libndctl.so"
    # The C checks: compiled against the project's header, linked against our libndctl.
    cc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$here/include" -o "$GUEST_BIN/c_write_path" \
        "$kt/c/write_path.c" -L"$GUEST_BIN/lib" -lndctl -Wl,-rpath,/opt/ndctl-rs/lib ||
        die "compiling the C checks failed"
    # The command groups (issue 8): one program, run in the guest on Debian's libndctl
    # (LD_LIBRARY_PATH beats the RUNPATH) and on ours, outputs compared line by line.
    cc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$here/include" -o "$GUEST_BIN/cmd_groups" \
        "$kt/c/cmd_groups.c" -L"$GUEST_BIN/lib" -lndctl -Wl,-rpath,/opt/ndctl-rs/lib ||
        die "compiling the C command groups failed"
    strip "$GUEST_BIN"/list "$GUEST_BIN"/btt "$GUEST_BIN"/kernel_checks "$GUEST_BIN"/cmd_groups_rs
    log "guest binaries ready ($((SECONDS - t)) s)"
}

# ------------------------------------------------------------------ initramfs
# make_initramfs PLATFORM OUT: the guest root = Debian userland + modules + our binaries
make_initramfs() {
    local platform=$1 out=$2 rfs
    rfs=$OUTROOT/$platform/rootfs
    rm -rf "$rfs"
    cp -a "$CACHE/guest-base" "$rfs"
    rm -f "$rfs/.debs"
    rm -rf "$rfs"/usr/share/{doc,man,locale,lintian,bash-completion,info} \
        "$rfs"/usr/lib/x86_64-linux-gnu/gconv "$rfs"/etc/modprobe.d/nvdimm-security.conf
    mkdir -p "$rfs/opt/ndctl-rs/bin"
    cp -a "$GUEST_BIN"/. "$rfs/opt/ndctl-rs/bin/"
    mv "$rfs/opt/ndctl-rs/bin/lib" "$rfs/opt/ndctl-rs/lib"
    install -m 755 "$kt/guest-init.sh" "$rfs/init"

    # Modules: 9p for the results, the libnvdimm stack (stock, or nfit_test's mocked
    # rebuilds), and everything they depend on according to the stock modules.dep.
    local gmod=$rfs/lib/modules/$KVER want m
    want="kernel/fs/9p/9p.ko kernel/net/9p/9pnet_virtio.ko kernel/drivers/virtio/virtio_pci.ko"
    want+=" kernel/drivers/dax/kmem.ko"
    if [ "$platform" = nfit ]; then
        # ext2 (through ext4, which loads crc32c) for PMDK's pool file on a namespace
        want+=" kernel/fs/ext4/ext4.ko kernel/crypto/crc32c_generic.ko"
    fi
    if [ "$platform" = qemu ]; then
        want+=" kernel/drivers/acpi/nfit/nfit.ko kernel/drivers/nvdimm/libnvdimm.ko"
        want+=" kernel/drivers/nvdimm/nd_pmem.ko kernel/drivers/nvdimm/nd_btt.ko"
        want+=" kernel/drivers/dax/dax_pmem.ko kernel/drivers/dax/device_dax.ko"
    fi
    mkdir -p "$gmod"
    for m in $(for w in $want; do
        echo "$w"
        awk -v m="$w:" '$1 == m {for (i = 2; i <= NF; i++) print $i}' "$KMOD/modules.dep"
    done | sort -u); do
        if [ "$platform" = nfit ]; then
            case $m in */libnvdimm.ko | */nfit.ko | */nd_pmem.ko | */nd_btt.ko | */dax_pmem.ko | */device_dax.ko)
                continue ;;
            esac
        fi
        mkdir -p "$gmod/$(dirname "$m")"
        cp "$KMOD/$m" "$gmod/$m"
    done
    cp "$KMOD"/modules.{order,builtin,builtin.modinfo} "$gmod/" 2>/dev/null || true
    if [ "$platform" = nfit ]; then
        mkdir -p "$gmod/extra"
        cp "$CACHE/nfit-src/built/"*.ko "$gmod/extra/"
    fi
    depmod -b "$rfs" "$KVER"
    if [ "$platform" = nfit ] && grep -q '^kernel/drivers/nvdimm' "$gmod/modules.dep"; then
        die "a stock libnvdimm module slipped into the nfit_test guest"
    fi
    (cd "$rfs" && find . | sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) > "$out"
    log "initramfs $platform: $(du -h "$out" | cut -f1)"
}

# ------------------------------------------------------------------ boot
# boot PLATFORM: one guest; its checks land in $OUTROOT/PLATFORM/xfer
boot() {
    local platform=$1 dir=$OUTROOT/$1 t=$SECONDS
    rm -rf "$dir"
    mkdir -p "$dir/xfer"
    make_initramfs "$platform" "$dir/initrd.gz"
    local args=(-machine "pc,accel=tcg$([ "$platform" = qemu ] && echo ,nvdimm=on)" -cpu max -smp 2 -nographic -no-reboot -nic none
        -virtfs "local,path=$dir/xfer,mount_tag=xfer,security_model=none,id=xfer"
        -kernel "$VMLINUZ" -initrd "$dir/initrd.gz")
    if [ "$platform" = qemu ]; then
        # Four NVDIMMs, each at its own 1 GiB-aligned address (packed DIMMs leave the next
        # region misaligned for fsdax/devdax). QEMU puts the label area at the end of each
        # backing file, so a namespace's offset in the file is its DPA.
        #   slot 1: 1 GiB, labels (v1.1)   slot 2: 512 MiB, label-less
        #   slot 3: 512 MiB, labels (v1.2) slot 4: 513 GiB sparse, label-less (BTT: 2 arenas)
        local big=$((513 * 1024 + 256))M
        truncate -s 1G "$dir/nvdimm1.img"
        truncate -s 512M "$dir/nvdimm2.img" "$dir/nvdimm3.img"
        truncate -s "$big" "$dir/nvdimm4.img"
        args+=(-m "2G,slots=4,maxmem=$((2 + 1 + 1 + 1 + 515))G"
            -object "memory-backend-file,id=m1,share=on,mem-path=$dir/nvdimm1.img,size=1G"
            -device "nvdimm,id=nv1,memdev=m1,label-size=256K,addr=0x100000000"
            -object "memory-backend-file,id=m2,share=on,mem-path=$dir/nvdimm2.img,size=512M"
            -device "nvdimm,id=nv2,memdev=m2,addr=0x140000000"
            -object "memory-backend-file,id=m3,share=on,mem-path=$dir/nvdimm3.img,size=512M"
            -device "nvdimm,id=nv3,memdev=m3,label-size=256K,addr=0x180000000"
            -object "memory-backend-file,id=m4,share=on,mem-path=$dir/nvdimm4.img,size=$big"
            -device "nvdimm,id=nv4,memdev=m4,addr=0x200000000"
            -append "console=ttyS0 panic=1 loglevel=5 rdinit=/init ndctl_platform=qemu")
    else
        args+=(-m 2G -append "console=ttyS0 panic=1 loglevel=5 rdinit=/init ndctl_platform=nfit")
    fi
    printf '%q ' "$QEMU" "${args[@]}" > "$dir/qemu-cmdline.txt"
    log "booting $platform (QEMU TCG, timeout ${BOOT_TIMEOUT}s)"
    local rc=0
    LD_LIBRARY_PATH=$QLIB timeout -k 10 "$BOOT_TIMEOUT" "$QEMU" "${args[@]}" \
        < /dev/null > "$dir/console.log" 2>&1 || rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        echo "boot-$platform	FAIL	QEMU killed after ${BOOT_TIMEOUT}s" >> "$dir/xfer/checks.tsv"
    elif [ $rc != 0 ]; then
        echo "boot-$platform	FAIL	QEMU exited with $rc (see console.log)" >> "$dir/xfer/checks.tsv"
    fi
    if [ ! -f "$dir/xfer/DONE" ]; then
        echo "guest-$platform-finished	FAIL	the guest did not finish its checks (console.log)" >> "$dir/xfer/checks.tsv"
    fi
    echo "$((SECONDS - t))" > "$dir/boot-seconds"
    log "$platform: guest ran $((SECONDS - t)) s"
}

[[ " ${platforms[*]} " == *" nfit "* ]] && build_nfit_test
build_guest_binaries
for p in "${platforms[@]}"; do boot "$p"; done

# ------------------------------------------------------------------ table
failed=0
for p in "${platforms[@]}"; do
    f=$OUTROOT/$p/xfer/checks.tsv
    echo
    echo "== kernel checks: $p (QEMU run $(cat "$OUTROOT/$p/boot-seconds") s; logs in $OUTROOT/$p/)"
    if [ ! -s "$f" ]; then
        echo "  no checks were recorded"
        failed=1
        continue
    fi
    awk -F'\t' '{ printf "  %-4s  %-58s %s\n", $2, $1, $3 }' "$f"
    n_pass=$(awk -F'\t' '$2 == "PASS"' "$f" | wc -l)
    n_fail=$(awk -F'\t' '$2 != "PASS"' "$f" | wc -l)
    echo "  -- $p: $n_pass passed, $n_fail failed"
    [ "$n_fail" = 0 ] || failed=1
done
exit $failed
