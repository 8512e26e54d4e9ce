#!/bin/busybox sh
# /init of the kernel-test guest (PID 1 in the initramfs that tests/kernel/run.sh packs).
# Mounts the host's result directory over 9p, loads the libnvdimm stack of the platform
# named on the kernel command line (ndctl_platform=qemu|nfit), runs the project's check
# program and powers off. PID 1 must never exit (that panics the kernel), so every path
# ends in poweroff.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /xfer /usr/sbin /usr/bin /sbin
/bin/busybox --install -s 2>/dev/null
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/ndctl-rs/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

off() {
    sync
    umount /xfer 2>/dev/null
    echo "[guest] NDCTL-KERNEL-TESTS-END $1"
    poweroff -f
    sleep 5
    echo o > /proc/sysrq-trigger
    sleep 100000
}

platform=$(sed -n 's/.*ndctl_platform=\([a-z]*\).*/\1/p' /proc/cmdline)
echo "[guest] NDCTL-KERNEL-TESTS-BEGIN platform=$platform kernel=$(uname -r)"
for m in virtio_pci 9pnet_virtio 9p; do modprobe $m || echo "[guest] modprobe $m failed"; done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 xfer /xfer; then
    echo "[guest] cannot mount the 9p result share"
    off no-9p
fi

case $platform in
qemu) mods="libnvdimm nfit nd_btt nd_pmem dax_pmem device_dax" ;;
nfit) mods="nfit_test_iomap libnvdimm nd_btt nd_pmem nfit device_dax dax_pmem nfit_test" ;;
*) echo "[guest] unknown platform '$platform'"; off bad-platform ;;
esac
for m in $mods; do
    modprobe $m || echo "[guest] modprobe $m failed"
done
if [ "$platform" = nfit ]; then
    modinfo -n libnvdimm > /xfer/libnvdimm-path.txt 2>&1
fi

# The checks program waits for the buses to settle itself; it writes checks.tsv.
/opt/ndctl-rs/bin/kernel_checks "$platform" /xfer 2>&1 | tee /xfer/guest.log
echo "[guest] checks exited"
dmesg > /xfer/dmesg.txt 2>&1
echo done > /xfer/DONE
off ok
