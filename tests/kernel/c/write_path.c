/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * write_path REGION: the C-ABI half of the kernel write-path checks (tests/kernel/run.sh).
 * Runs in the test guest, linked against the project's libndctl.so.6, and drives the
 * libndctl API the way ndctl's create-namespace does: raw (with resize), sector, fsdax and
 * devdax on a labelled region; on a label-less region the reconfiguration between modes,
 * zeroing the old info block first (what `ndctl create-namespace -f -e` does), since the
 * kernel otherwise re-attaches the old personality. After each step the kernel's state is
 * checked in sysfs and /dev, not only the return code.
 *
 * Prints "CHECK <name> PASS|FAIL <detail>" per step; exits 0 only if all passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ndctl/libndctl.h>
#include <ndctl/ndctl.h>

#define MIB (1024ULL * 1024ULL)

static int failures;

/* A version-4 uuid without libuuid. */
static void new_uuid(uuid_t uu)
{
	if (getrandom(uu, sizeof(uuid_t), 0) != sizeof(uuid_t))
		abort();
	uu[6] = (uu[6] & 0x0f) | 0x40;
	uu[8] = (uu[8] & 0x3f) | 0x80;
}
static char detail[512];

static void report(const char *name, int ok)
{
	printf("CHECK %s %s %s\n", name, ok ? "PASS" : "FAIL", detail);
	fflush(stdout);
	if (!ok)
		failures++;
	detail[0] = 0;
}

static int why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return 0;
}

static int exists(const char *fmt, const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), fmt, name);
	return stat(p, &st) == 0;
}

static unsigned long long bdev_bytes(const char *bdev)
{
	char p[256];
	unsigned long long sectors = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/class/block/%s/size", bdev);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &sectors) != 1)
		sectors = 0;
	fclose(f);
	return sectors * 512;
}

/* The library in use must be ours, not Debian's libndctl.so.6 beside it. */
static int uses_project_library(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return why("/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/opt/ndctl-rs/lib/libndctl.so"))
			found = 1;
	fclose(f);
	if (!found)
		return why("libndctl.so.6 is not the project's (/opt/ndctl-rs/lib)");
	why("libndctl.so.6 from /opt/ndctl-rs/lib");
	return 1;
}

static struct ndctl_region *find_region(struct ndctl_ctx *ctx, const char *name)
{
	struct ndctl_bus *bus;
	struct ndctl_region *region;

	ndctl_bus_foreach(ctx, bus)
		ndctl_region_foreach(bus, region)
			if (strcmp(ndctl_region_get_devname(region), name) == 0)
				return region;
	return NULL;
}

/* Zero the first 8 KiB of a disabled namespace through its raw block device. */
static int zero_info_block(struct ndctl_namespace *ndns)
{
	char path[64];
	void *buf;
	int fd, rc;

	ndctl_namespace_set_raw_mode(ndns, 1);
	rc = ndctl_namespace_enable(ndns);
	if (rc < 0)
		goto out;
	snprintf(path, sizeof(path), "/dev/%s", ndctl_namespace_get_block_device(ndns));
	fd = open(path, O_RDWR | O_DIRECT | O_EXCL);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (posix_memalign(&buf, 4096, 8192)) {
		close(fd);
		rc = -ENOMEM;
		goto out;
	}
	memset(buf, 0, 8192);
	rc = pwrite(fd, buf, 8192, 0) == 8192 ? 0 : -EIO;
	free(buf);
	close(fd);
out:
	ndctl_namespace_set_raw_mode(ndns, 0);
	ndctl_namespace_disable_invalidate(ndns);
	return rc;
}

static int setup_labelled(struct ndctl_region *region, struct ndctl_namespace **out,
			  unsigned long long size, enum ndctl_namespace_mode mode)
{
	struct ndctl_namespace *ndns = ndctl_region_get_namespace_seed(region);
	uuid_t uu;
	int rc;

	if (!ndns)
		return -ENODEV;
	new_uuid(uu);
	rc = ndctl_namespace_set_uuid(ndns, uu);
	if (!rc)
		rc = ndctl_namespace_set_alt_name(ndns, "c-write-path");
	if (!rc)
		rc = ndctl_namespace_set_size(ndns, size);
	if (!rc)
		rc = ndctl_namespace_set_enforce_mode(ndns, mode);
	*out = ndns;
	return rc;
}

/* Claim the (disabled, configured) namespace in mode; 0 or -errno. */
static int claim(struct ndctl_region *region, struct ndctl_namespace *ndns,
		 enum ndctl_namespace_mode mode, unsigned int sector, unsigned long align,
		 enum ndctl_pfn_loc loc)
{
	uuid_t uu;
	int rc = 0;

	new_uuid(uu);
	if (mode == NDCTL_NS_MODE_SECTOR) {
		struct ndctl_btt *btt = ndctl_region_get_btt_seed(region);

		if (!btt)
			return -ENODEV;
		rc = ndctl_btt_set_uuid(btt, uu);
		if (!rc)
			rc = ndctl_btt_set_sector_size(btt, sector);
		if (!rc)
			rc = ndctl_btt_set_namespace(btt, ndns);
		if (!rc)
			rc = ndctl_btt_enable(btt);
	} else if (mode == NDCTL_NS_MODE_FSDAX) {
		struct ndctl_pfn *pfn = ndctl_region_get_pfn_seed(region);

		if (!pfn)
			return -ENODEV;
		rc = ndctl_pfn_set_uuid(pfn, uu);
		if (!rc)
			rc = ndctl_pfn_set_location(pfn, loc);
		if (!rc)
			rc = ndctl_pfn_set_namespace(pfn, ndns);
		if (!rc)
			rc = ndctl_pfn_enable(pfn);
	} else if (mode == NDCTL_NS_MODE_DEVDAX) {
		struct ndctl_dax *dax = ndctl_region_get_dax_seed(region);

		if (!dax)
			return -ENODEV;
		rc = ndctl_dax_set_uuid(dax, uu);
		if (!rc)
			rc = ndctl_dax_set_location(dax, NDCTL_PFN_LOC_PMEM);
		if (!rc)
			rc = ndctl_dax_set_align(dax, align);
		if (!rc)
			rc = ndctl_dax_set_namespace(dax, ndns);
		if (!rc)
			rc = ndctl_dax_enable(dax);
	} else {
		rc = ndctl_namespace_enable(ndns);
		if (rc > 0)
			rc = -EEXIST; /* something else claimed it */
	}
	return rc < 0 ? rc : 0;
}

/* Check the kernel's view: the claim (or none) and the device node. */
static int verify(struct ndctl_namespace *ndns, enum ndctl_namespace_mode mode,
		  unsigned int sector, unsigned long long ns_size, enum ndctl_pfn_loc loc)
{
	const char *name = ndctl_namespace_get_devname(ndns);
	struct ndctl_btt *btt = ndctl_namespace_get_btt(ndns);
	struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ndns);
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);
	const char *bdev;

	switch (mode) {
	case NDCTL_NS_MODE_SECTOR:
		if (!btt || !ndctl_btt_is_enabled(btt))
			return why("%s: no enabled btt", name);
		if (ndctl_btt_get_sector_size(btt) != sector)
			return why("%s: sector size %u, wanted %u", ndctl_btt_get_devname(btt),
				   ndctl_btt_get_sector_size(btt), sector);
		bdev = ndctl_btt_get_block_device(btt);
		if (!bdev || !exists("/dev/%s", bdev))
			return why("%s: no /dev node", ndctl_btt_get_devname(btt));
		if (bdev_bytes(bdev) < ns_size / 10 * 8)
			return why("/dev/%s has %llu bytes of %llu", bdev, bdev_bytes(bdev), ns_size);
		why("%s %s /dev/%s %llu bytes", name, ndctl_btt_get_devname(btt), bdev,
		    bdev_bytes(bdev));
		return 1;
	case NDCTL_NS_MODE_FSDAX:
		if (!pfn || !ndctl_pfn_is_enabled(pfn) || btt || dax)
			return why("%s: not (only) an enabled pfn", name);
		if (ndctl_pfn_get_location(pfn) != loc)
			return why("%s: map %d, wanted %d", ndctl_pfn_get_devname(pfn),
				   ndctl_pfn_get_location(pfn), loc);
		bdev = ndctl_pfn_get_block_device(pfn);
		if (!bdev || !exists("/dev/%s", bdev))
			return why("%s: no /dev node", ndctl_pfn_get_devname(pfn));
		why("%s %s /dev/%s", name, ndctl_pfn_get_devname(pfn), bdev);
		return 1;
	case NDCTL_NS_MODE_DEVDAX: {
		char p[128];

		if (!dax || !ndctl_dax_is_enabled(dax) || btt || pfn)
			return why("%s: not (only) an enabled dax", name);
		snprintf(p, sizeof(p), "/sys/bus/nd/devices/%s/dax_region",
			 ndctl_dax_get_devname(dax));
		if (!exists("%s", p))
			return why("%s: no dax_region", ndctl_dax_get_devname(dax));
		why("%s %s align %lu", name, ndctl_dax_get_devname(dax), ndctl_dax_get_align(dax));
		return 1;
	}
	default:
		if (btt || pfn || dax)
			return why("%s: raw asked, but claimed by %s", name,
				   btt ? "a btt" : pfn ? "a pfn" : "a dax");
		if (!ndctl_namespace_is_enabled(ndns))
			return why("%s: not enabled", name);
		bdev = ndctl_namespace_get_block_device(ndns);
		if (!bdev || !exists("/dev/%s", bdev))
			return why("%s: no /dev node", name);
		why("%s raw /dev/%s %llu bytes", name, bdev, bdev_bytes(bdev));
		return 1;
	}
}

static const char *mode_tag(enum ndctl_namespace_mode mode, unsigned int sector,
			    unsigned long align, enum ndctl_pfn_loc loc)
{
	static char buf[32];

	switch (mode) {
	case NDCTL_NS_MODE_SECTOR:
		snprintf(buf, sizeof(buf), "sector%u", sector);
		break;
	case NDCTL_NS_MODE_FSDAX:
		return loc == NDCTL_PFN_LOC_RAM ? "fsdax-mem" : "fsdax-dev";
	case NDCTL_NS_MODE_DEVDAX:
		snprintf(buf, sizeof(buf), "devdax-%luk", align / 1024);
		break;
	default:
		return "raw";
	}
	return buf;
}

static void labelled(struct ndctl_region *region)
{
	static const struct {
		enum ndctl_namespace_mode mode;
		unsigned int sector;
		unsigned long align;
		enum ndctl_pfn_loc loc;
	} steps[] = {
		{ NDCTL_NS_MODE_RAW, 0, 0, 0 },
		{ NDCTL_NS_MODE_SECTOR, 4096, 0, 0 },
		{ NDCTL_NS_MODE_SECTOR, 512, 0, 0 },
		{ NDCTL_NS_MODE_SECTOR, 520, 0, 0 },
		{ NDCTL_NS_MODE_SECTOR, 4160, 0, 0 },
		{ NDCTL_NS_MODE_FSDAX, 0, 0, NDCTL_PFN_LOC_PMEM },
		{ NDCTL_NS_MODE_FSDAX, 0, 0, NDCTL_PFN_LOC_RAM },
		{ NDCTL_NS_MODE_DEVDAX, 0, 2 * MIB, NDCTL_PFN_LOC_PMEM },
		{ NDCTL_NS_MODE_DEVDAX, 0, 4096, NDCTL_PFN_LOC_PMEM },
	};
	unsigned int i;
	char name[64];

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ndctl_namespace *ndns = NULL;
		const char *tag = mode_tag(steps[i].mode, steps[i].sector, steps[i].align,
					   steps[i].loc);
		int rc, ok;

		snprintf(name, sizeof(name), "create-%s", tag);
		rc = setup_labelled(region, &ndns, 64 * MIB, steps[i].mode);
		if (!rc)
			rc = claim(region, ndns, steps[i].mode, steps[i].sector, steps[i].align,
				   steps[i].loc);
		ok = rc == 0 && verify(ndns, steps[i].mode, steps[i].sector, 64 * MIB, steps[i].loc);
		if (rc)
			why("%s", strerror(-rc));
		report(name, ok);
		if (!ndns)
			continue;
		if (ok && steps[i].mode == NDCTL_NS_MODE_RAW) {
			rc = ndctl_namespace_disable_invalidate(ndns);
			if (!rc && ndctl_namespace_is_enabled(ndns))
				rc = -EBUSY;
			if (!rc)
				rc = ndctl_namespace_set_size(ndns, 128 * MIB);
			if (!rc)
				rc = ndctl_namespace_enable(ndns);
			ok = rc == 0 && verify(ndns, NDCTL_NS_MODE_RAW, 0, 0, 0);
			if (ok && bdev_bytes(ndctl_namespace_get_block_device(ndns)) != 128 * MIB)
				ok = why("resized to %llu",
					 bdev_bytes(ndctl_namespace_get_block_device(ndns)));
			if (rc)
				why("%s", strerror(-rc));
			report("resize-disable-enable", ok);
		}
		snprintf(name, sizeof(name), "destroy-%s", tag);
		rc = ndctl_namespace_disable_invalidate(ndns);
		if (!rc && ndctl_namespace_get_size(ndns))
			rc = zero_info_block(ndns);
		if (!rc)
			rc = ndctl_namespace_delete(ndns);
		ok = rc == 0 && ndctl_namespace_get_size(ndns) == 0 &&
		     !ndctl_namespace_is_enabled(ndns);
		why(rc ? strerror(-rc) : "size %llu", ndctl_namespace_get_size(ndns));
		report(name, ok);
	}
}

static void labelless(struct ndctl_region *region)
{
	static const struct {
		enum ndctl_namespace_mode mode;
		unsigned int sector;
		unsigned long align;
		enum ndctl_pfn_loc loc;
	} steps[] = {
		{ NDCTL_NS_MODE_SECTOR, 4096, 0, 0 },
		{ NDCTL_NS_MODE_SECTOR, 512, 0, 0 },
		{ NDCTL_NS_MODE_DEVDAX, 0, 2 * MIB, NDCTL_PFN_LOC_PMEM },
		{ NDCTL_NS_MODE_RAW, 0, 0, 0 },
		{ NDCTL_NS_MODE_FSDAX, 0, 0, NDCTL_PFN_LOC_PMEM },
		{ NDCTL_NS_MODE_SECTOR, 4160, 0, 0 },
		{ NDCTL_NS_MODE_FSDAX, 0, 0, NDCTL_PFN_LOC_RAM },
		{ NDCTL_NS_MODE_RAW, 0, 0, 0 },
	};
	struct ndctl_namespace *ndns, *io = NULL;
	unsigned int i;
	char name[64];

	ndctl_namespace_foreach(region, ndns)
		if (ndctl_namespace_get_type(ndns) == ND_DEVICE_NAMESPACE_IO)
			io = ndns;
	if (!io) {
		why("%s has no label-less namespace", ndctl_region_get_devname(region));
		report("find-io-namespace", 0);
		return;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const char *tag = mode_tag(steps[i].mode, steps[i].sector, steps[i].align,
					   steps[i].loc);
		int rc, ok;

		snprintf(name, sizeof(name), "reconfig-%u-to-%s", i + 1, tag);
		rc = ndctl_namespace_disable_invalidate(io);
		/*
		 * Like ndctl: drop the claim class, ignoring the ENXIO of a label-less
		 * namespace (the kernel applies the class before failing the label update).
		 */
		ndctl_namespace_set_enforce_mode(io, NDCTL_NS_MODE_RAW);
		if (!rc)
			rc = zero_info_block(io);
		if (!rc)
			rc = claim(region, io, steps[i].mode, steps[i].sector, steps[i].align,
				   steps[i].loc);
		ok = rc == 0 && verify(io, steps[i].mode, steps[i].sector,
				       ndctl_namespace_get_size(io), steps[i].loc);
		if (rc)
			why("%s", strerror(-rc));
		report(name, ok);
	}
}

int main(int argc, char **argv)
{
	struct ndctl_ctx *ctx;
	struct ndctl_region *region;

	if (argc != 2) {
		fprintf(stderr, "usage: write_path REGION\n");
		return 2;
	}
	report("uses-project-libndctl", uses_project_library());
	if (ndctl_new(&ctx) < 0) {
		fprintf(stderr, "write_path: ndctl_new failed\n");
		return 2;
	}
	region = find_region(ctx, argv[1]);
	if (!region) {
		fprintf(stderr, "write_path: no %s\n", argv[1]);
		ndctl_unref(ctx);
		return 2;
	}
	if (ndctl_region_get_nstype(region) == ND_DEVICE_NAMESPACE_IO)
		labelless(region);
	else
		labelled(region);
	ndctl_unref(ctx);
	return failures ? 1 : 0;
}
