/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * walk - print every object libndctl finds and every getter that only reads sysfs.
 *
 * Output: one "<object path> <getter>=<value>" line per value, e.g.
 *     bus:ndbus0/region:region1/namespace:namespace1.0 size=134217728
 * Paths name objects by their device names, never by pointers, so two runs over the same
 * sysfs tree print the same set of lines. Iteration order follows readdir() and differs
 * between filesystems: compare outputs after `LC_ALL=C sort`.
 *
 * The program uses only the public libndctl.h API, so the same source is built against
 * libndctl and against the Rust library (tests/c/run-differential.sh). Getters that use
 * an ioctl (anything built on struct ndctl_cmd) are left out: a captured tree has no kernel
 * behind it. Build with -DWALK_CMD_SYSFS to add the sysfs-only getters that libndctl groups
 * with its command layer (badblocks, scrub, firmware activation, security, labels); their
 * lines carry a "cmd." prefix so that they can be filtered out.
 *
 * Exit status: 0 on success, 1 if the context cannot be created or a navigation check
 * (child -> parent, lookup -> object) fails; failed checks also print "...=MISMATCH".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ndctl/libndctl.h>

/* Exported by libndctl but declared only in its uninstalled libndctl-nfit.h. */
int ndctl_bus_is_nfit_cmd_supported(struct ndctl_bus *bus, int cmd);

/* The command numbers are shared by bus and DIMM (ND_CMD_CALL = 10 is the largest). */
#define WALK_MAX_CMD 12

static int failures;

static void out(const char *path, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void out(const char *path, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s=", path, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#define U(path, name, v) out(path, name, "%llu", (unsigned long long)(v))
#define I(path, name, v) out(path, name, "%lld", (long long)(v))
#define S(path, name, s) out(path, name, "%s", str(s))

static const char *str(const char *s)
{
	return s ? s : "(null)";
}

/* A relation check: the two objects must be the same; prints the expected name. */
static void same(const char *path, const char *name, const void *got, const void *want,
		 const char *want_name)
{
	if (got == want) {
		S(path, name, want_name);
	} else {
		S(path, name, "MISMATCH");
		failures++;
	}
}

static void child_path(char *buf, size_t len, const char *parent, const char *kind,
		       const char *devname)
{
	int n = snprintf(buf, len, "%s/%s:%s", parent, kind, str(devname));

	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "walk: object path too long under %s\n", parent);
		exit(1);
	}
}

static void print_uuid(const char *path, const char *name, const uuid_t uu)
{
	char s[40];
	int i, n = 0;

	for (i = 0; i < 16; i++) {
		n += snprintf(s + n, sizeof(s) - n, "%02x", uu[i]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			s[n++] = '-';
	}
	s[n] = '\0';
	S(path, name, s);
}

static const char *ns_name(struct ndctl_namespace *ndns)
{
	return ndns ? ndctl_namespace_get_devname(ndns) : "none";
}

static const char *btt_name(struct ndctl_btt *btt)
{
	return btt ? ndctl_btt_get_devname(btt) : "none";
}

static const char *pfn_name(struct ndctl_pfn *pfn)
{
	return pfn ? ndctl_pfn_get_devname(pfn) : "none";
}

static const char *dax_name(struct ndctl_dax *dax)
{
	return dax ? ndctl_dax_get_devname(dax) : "none";
}

static const char *dimm_name(struct ndctl_dimm *dimm)
{
	return dimm ? ndctl_dimm_get_devname(dimm) : "none";
}

static const char *region_name(struct ndctl_region *region)
{
	return region ? ndctl_region_get_devname(region) : "none";
}

static void walk_dimm(struct ndctl_ctx *ctx, struct ndctl_bus *bus, const char *bus_path,
		      struct ndctl_dimm *dimm)
{
	char path[256];
	int i, formats;

	child_path(path, sizeof(path), bus_path, "dimm", ndctl_dimm_get_devname(dimm));
	U(path, "id", ndctl_dimm_get_id(dimm));
	S(path, "devname", ndctl_dimm_get_devname(dimm));
	U(path, "major", ndctl_dimm_get_major(dimm));
	U(path, "minor", ndctl_dimm_get_minor(dimm));
	U(path, "handle", ndctl_dimm_get_handle(dimm));
	U(path, "handle_get_node", ndctl_dimm_handle_get_node(dimm));
	U(path, "handle_get_socket", ndctl_dimm_handle_get_socket(dimm));
	U(path, "handle_get_imc", ndctl_dimm_handle_get_imc(dimm));
	U(path, "handle_get_channel", ndctl_dimm_handle_get_channel(dimm));
	U(path, "handle_get_dimm", ndctl_dimm_handle_get_dimm(dimm));
	U(path, "phys_id", ndctl_dimm_get_phys_id(dimm));
	U(path, "vendor", ndctl_dimm_get_vendor(dimm));
	U(path, "device", ndctl_dimm_get_device(dimm));
	U(path, "revision", ndctl_dimm_get_revision(dimm));
	U(path, "subsystem_vendor", ndctl_dimm_get_subsystem_vendor(dimm));
	U(path, "subsystem_device", ndctl_dimm_get_subsystem_device(dimm));
	U(path, "subsystem_revision", ndctl_dimm_get_subsystem_revision(dimm));
	U(path, "manufacturing_date", ndctl_dimm_get_manufacturing_date(dimm));
	U(path, "manufacturing_location", ndctl_dimm_get_manufacturing_location(dimm));
	U(path, "serial", ndctl_dimm_get_serial(dimm));
	S(path, "unique_id", ndctl_dimm_get_unique_id(dimm));
	I(path, "dirty_shutdown", ndctl_dimm_get_dirty_shutdown(dimm));
	U(path, "format", ndctl_dimm_get_format(dimm));
	formats = ndctl_dimm_get_formats(dimm);
	I(path, "formats", formats);
	for (i = 0; i < formats && i < 8; i++) {
		char name[32];

		snprintf(name, sizeof(name), "formatN(%d)", i);
		I(path, name, ndctl_dimm_get_formatN(dimm, i));
	}
	for (i = 0; i < WALK_MAX_CMD; i++) {
		char name[40];

		snprintf(name, sizeof(name), "is_cmd_supported(%d)", i);
		I(path, name, ndctl_dimm_is_cmd_supported(dimm, i));
		snprintf(name, sizeof(name), "cmd_name(%d)", i);
		S(path, name, ndctl_dimm_get_cmd_name(dimm, i));
	}
	I(path, "locked", ndctl_dimm_locked(dimm));
	I(path, "aliased", ndctl_dimm_aliased(dimm));
	I(path, "has_errors", ndctl_dimm_has_errors(dimm));
	I(path, "has_notifications", ndctl_dimm_has_notifications(dimm));
	I(path, "failed_save", ndctl_dimm_failed_save(dimm));
	I(path, "failed_arm", ndctl_dimm_failed_arm(dimm));
	I(path, "failed_restore", ndctl_dimm_failed_restore(dimm));
	I(path, "failed_flush", ndctl_dimm_failed_flush(dimm));
	I(path, "failed_map", ndctl_dimm_failed_map(dimm));
	I(path, "smart_pending", ndctl_dimm_smart_pending(dimm));
	I(path, "is_active", ndctl_dimm_is_active(dimm));
	I(path, "is_enabled", ndctl_dimm_is_enabled(dimm));

	/* Re-reading the health flags must not change them on a static tree. */
	ndctl_dimm_refresh_flags(dimm);
	I(path, "refreshed.has_errors", ndctl_dimm_has_errors(dimm));
	I(path, "refreshed.failed_arm", ndctl_dimm_failed_arm(dimm));
	I(path, "refreshed.smart_pending", ndctl_dimm_smart_pending(dimm));

	same(path, "get_bus", ndctl_dimm_get_bus(dimm), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_dimm_get_ctx(dimm), ctx, "ctx");
	same(path, "get_by_handle", ndctl_dimm_get_by_handle(bus, ndctl_dimm_get_handle(dimm)),
	     dimm, ndctl_dimm_get_devname(dimm));

#ifdef WALK_CMD_SYSFS
	U(path, "cmd.available_labels", ndctl_dimm_get_available_labels(dimm));
	I(path, "cmd.security", ndctl_dimm_get_security(dimm));
	I(path, "cmd.security_is_frozen", ndctl_dimm_security_is_frozen(dimm));
	I(path, "cmd.fw_activate_state", ndctl_dimm_get_fw_activate_state(dimm));
	I(path, "cmd.fw_activate_result", ndctl_dimm_get_fw_activate_result(dimm));
#endif
}

static void walk_mapping(struct ndctl_ctx *ctx, struct ndctl_bus *bus,
			 struct ndctl_region *region, const char *region_path,
			 struct ndctl_mapping *mapping)
{
	struct ndctl_dimm *dimm = ndctl_mapping_get_dimm(mapping);
	char path[256];

	child_path(path, sizeof(path), region_path, "mapping", dimm_name(dimm));
	S(path, "dimm", dimm_name(dimm));
	U(path, "offset", ndctl_mapping_get_offset(mapping));
	U(path, "length", ndctl_mapping_get_length(mapping));
	I(path, "position", ndctl_mapping_get_position(mapping));
	same(path, "get_region", ndctl_mapping_get_region(mapping), region,
	     ndctl_region_get_devname(region));
	same(path, "get_bus", ndctl_mapping_get_bus(mapping), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_mapping_get_ctx(mapping), ctx, "ctx");
}

static void walk_iset(struct ndctl_region *region, const char *region_path,
		      struct ndctl_interleave_set *iset)
{
	struct ndctl_dimm *dimm;
	char path[256];

	child_path(path, sizeof(path), region_path, "iset", "0");
	U(path, "cookie", ndctl_interleave_set_get_cookie(iset));
	I(path, "is_active", ndctl_interleave_set_is_active(iset));
	same(path, "get_region", ndctl_interleave_set_get_region(iset), region,
	     ndctl_region_get_devname(region));
	ndctl_dimm_foreach_in_interleave_set(iset, dimm)
		S(path, "dimm", ndctl_dimm_get_devname(dimm));
}

static void walk_namespace(struct ndctl_ctx *ctx, struct ndctl_bus *bus,
			   struct ndctl_region *region, const char *region_path,
			   struct ndctl_namespace *ndns)
{
	char path[256];
	uuid_t uu;
	int i, n;

	child_path(path, sizeof(path), region_path, "namespace",
		   ndctl_namespace_get_devname(ndns));
	U(path, "id", ndctl_namespace_get_id(ndns));
	S(path, "devname", ndctl_namespace_get_devname(ndns));
	U(path, "type", ndctl_namespace_get_type(ndns));
	S(path, "type_name", ndctl_namespace_get_type_name(ndns));
	I(path, "mode", (int)ndctl_namespace_get_mode(ndns));
	I(path, "enforce_mode", (int)ndctl_namespace_get_enforce_mode(ndns));
	I(path, "raw_mode", ndctl_namespace_get_raw_mode(ndns));
	U(path, "size", ndctl_namespace_get_size(ndns));
	U(path, "resource", ndctl_namespace_get_resource(ndns));
	I(path, "numa_node", ndctl_namespace_get_numa_node(ndns));
	I(path, "target_node", ndctl_namespace_get_target_node(ndns));
	memset(uu, 0xa5, sizeof(uu));
	ndctl_namespace_get_uuid(ndns, uu);
	print_uuid(path, "uuid", uu);
	S(path, "alt_name", ndctl_namespace_get_alt_name(ndns));
	U(path, "sector_size", ndctl_namespace_get_sector_size(ndns));
	n = ndctl_namespace_get_num_sector_sizes(ndns);
	I(path, "num_sector_sizes", n);
	for (i = 0; i < n && i < 16; i++) {
		char name[48];

		snprintf(name, sizeof(name), "supported_sector_size(%d)", i);
		U(path, name, ndctl_namespace_get_supported_sector_size(ndns, i));
	}
	S(path, "block_device", ndctl_namespace_get_block_device(ndns));
	I(path, "is_enabled", ndctl_namespace_is_enabled(ndns));
	I(path, "is_active", ndctl_namespace_is_active(ndns));
	I(path, "is_valid", ndctl_namespace_is_valid(ndns));
	I(path, "is_configured", ndctl_namespace_is_configured(ndns));
	I(path, "is_configuration_idle", ndctl_namespace_is_configuration_idle(ndns));
	I(path, "write_cache_is_enabled", ndctl_namespace_write_cache_is_enabled(ndns));
	S(path, "get_btt", btt_name(ndctl_namespace_get_btt(ndns)));
	S(path, "get_pfn", pfn_name(ndctl_namespace_get_pfn(ndns)));
	S(path, "get_dax", dax_name(ndctl_namespace_get_dax(ndns)));
	same(path, "get_region", ndctl_namespace_get_region(ndns), region,
	     ndctl_region_get_devname(region));
	same(path, "get_bus", ndctl_namespace_get_bus(ndns), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_namespace_get_ctx(ndns), ctx, "ctx");

#ifdef WALK_CMD_SYSFS
	{
		struct badblock *bb;

		ndctl_namespace_badblock_foreach(ndns, bb)
			out(path, "cmd.badblock", "%llu+%u", bb->offset, bb->len);
	}
#endif
}

static void walk_btt(struct ndctl_ctx *ctx, struct ndctl_bus *bus, struct ndctl_region *region,
		     const char *region_path, struct ndctl_btt *btt)
{
	char path[256];
	uuid_t uu;
	int i, n;

	child_path(path, sizeof(path), region_path, "btt", ndctl_btt_get_devname(btt));
	U(path, "id", ndctl_btt_get_id(btt));
	S(path, "devname", ndctl_btt_get_devname(btt));
	U(path, "sector_size", ndctl_btt_get_sector_size(btt));
	n = ndctl_btt_get_num_sector_sizes(btt);
	I(path, "num_sector_sizes", n);
	for (i = 0; i < n && i < 16; i++) {
		char name[48];

		snprintf(name, sizeof(name), "supported_sector_size(%d)", i);
		U(path, name, ndctl_btt_get_supported_sector_size(btt, i));
	}
	U(path, "size", ndctl_btt_get_size(btt));
	memset(uu, 0xa5, sizeof(uu));
	ndctl_btt_get_uuid(btt, uu);
	print_uuid(path, "uuid", uu);
	S(path, "block_device", ndctl_btt_get_block_device(btt));
	S(path, "get_namespace", ns_name(ndctl_btt_get_namespace(btt)));
	I(path, "is_enabled", ndctl_btt_is_enabled(btt));
	I(path, "is_valid", ndctl_btt_is_valid(btt));
	I(path, "is_configured", ndctl_btt_is_configured(btt));
	same(path, "get_region", ndctl_btt_get_region(btt), region,
	     ndctl_region_get_devname(region));
	same(path, "get_bus", ndctl_btt_get_bus(btt), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_btt_get_ctx(btt), ctx, "ctx");
}

static void walk_pfn(struct ndctl_ctx *ctx, struct ndctl_bus *bus, struct ndctl_region *region,
		     const char *region_path, struct ndctl_pfn *pfn)
{
	char path[256];
	uuid_t uu;
	int i, n;

	child_path(path, sizeof(path), region_path, "pfn", ndctl_pfn_get_devname(pfn));
	U(path, "id", ndctl_pfn_get_id(pfn));
	S(path, "devname", ndctl_pfn_get_devname(pfn));
	I(path, "location", (int)ndctl_pfn_get_location(pfn));
	U(path, "align", ndctl_pfn_get_align(pfn));
	I(path, "has_align", ndctl_pfn_has_align(pfn));
	n = ndctl_pfn_get_num_alignments(pfn);
	I(path, "num_alignments", n);
	for (i = 0; i < n && i < 16; i++) {
		char name[48];

		snprintf(name, sizeof(name), "supported_alignment(%d)", i);
		U(path, name, ndctl_pfn_get_supported_alignment(pfn, i));
	}
	U(path, "size", ndctl_pfn_get_size(pfn));
	U(path, "resource", ndctl_pfn_get_resource(pfn));
	memset(uu, 0xa5, sizeof(uu));
	ndctl_pfn_get_uuid(pfn, uu);
	print_uuid(path, "uuid", uu);
	S(path, "block_device", ndctl_pfn_get_block_device(pfn));
	S(path, "get_namespace", ns_name(ndctl_pfn_get_namespace(pfn)));
	I(path, "is_enabled", ndctl_pfn_is_enabled(pfn));
	I(path, "is_valid", ndctl_pfn_is_valid(pfn));
	I(path, "is_configured", ndctl_pfn_is_configured(pfn));
	same(path, "get_region", ndctl_pfn_get_region(pfn), region,
	     ndctl_region_get_devname(region));
	same(path, "get_bus", ndctl_pfn_get_bus(pfn), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_pfn_get_ctx(pfn), ctx, "ctx");
}

static void walk_dax(struct ndctl_ctx *ctx, struct ndctl_bus *bus, struct ndctl_region *region,
		     const char *region_path, struct ndctl_dax *dax)
{
	char path[256];
	uuid_t uu;
	int i, n;

	child_path(path, sizeof(path), region_path, "dax", ndctl_dax_get_devname(dax));
	U(path, "id", ndctl_dax_get_id(dax));
	S(path, "devname", ndctl_dax_get_devname(dax));
	I(path, "location", (int)ndctl_dax_get_location(dax));
	U(path, "align", ndctl_dax_get_align(dax));
	I(path, "has_align", ndctl_dax_has_align(dax));
	n = ndctl_dax_get_num_alignments(dax);
	I(path, "num_alignments", n);
	for (i = 0; i < n && i < 16; i++) {
		char name[48];

		snprintf(name, sizeof(name), "supported_alignment(%d)", i);
		U(path, name, ndctl_dax_get_supported_alignment(dax, i));
	}
	U(path, "size", ndctl_dax_get_size(dax));
	U(path, "resource", ndctl_dax_get_resource(dax));
	memset(uu, 0xa5, sizeof(uu));
	ndctl_dax_get_uuid(dax, uu);
	print_uuid(path, "uuid", uu);
	S(path, "get_namespace", ns_name(ndctl_dax_get_namespace(dax)));
	I(path, "is_enabled", ndctl_dax_is_enabled(dax));
	I(path, "is_valid", ndctl_dax_is_valid(dax));
	I(path, "is_configured", ndctl_dax_is_configured(dax));
	S(path, "daxctl_region", ndctl_dax_get_daxctl_region(dax) ? "present" : "none");
	same(path, "get_region", ndctl_dax_get_region(dax), region,
	     ndctl_region_get_devname(region));
	same(path, "get_bus", ndctl_dax_get_bus(dax), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_dax_get_ctx(dax), ctx, "ctx");
}

static void walk_region(struct ndctl_ctx *ctx, struct ndctl_bus *bus, const char *bus_path,
			struct ndctl_region *region)
{
	unsigned long long resource = ndctl_region_get_resource(region);
	unsigned long long size = ndctl_region_get_size(region);
	struct ndctl_interleave_set *iset;
	struct ndctl_namespace *ndns;
	struct ndctl_mapping *mapping;
	struct ndctl_region *other;
	struct ndctl_dimm *dimm;
	struct ndctl_btt *btt;
	struct ndctl_pfn *pfn;
	struct ndctl_dax *dax;
	char path[256];
	int same_range;

	child_path(path, sizeof(path), bus_path, "region", ndctl_region_get_devname(region));
	U(path, "id", ndctl_region_get_id(region));
	S(path, "devname", ndctl_region_get_devname(region));
	U(path, "size", size);
	U(path, "resource", resource);
	U(path, "available_size", ndctl_region_get_available_size(region));
	U(path, "max_available_extent", ndctl_region_get_max_available_extent(region));
	U(path, "mappings", ndctl_region_get_mappings(region));
	U(path, "interleave_ways", ndctl_region_get_interleave_ways(region));
	U(path, "nstype", ndctl_region_get_nstype(region));
	U(path, "type", ndctl_region_get_type(region));
	S(path, "type_name", ndctl_region_get_type_name(region));
	U(path, "range_index", ndctl_region_get_range_index(region));
	I(path, "ro", ndctl_region_get_ro(region));
	I(path, "numa_node", ndctl_region_get_numa_node(region));
	I(path, "has_numa", ndctl_region_has_numa(region));
	I(path, "target_node", ndctl_region_get_target_node(region));
	U(path, "align", ndctl_region_get_align(region));
	I(path, "persistence_domain", (int)ndctl_region_get_persistence_domain(region));
	I(path, "is_enabled", ndctl_region_is_enabled(region));
	S(path, "namespace_seed", ns_name(ndctl_region_get_namespace_seed(region)));
	S(path, "btt_seed", btt_name(ndctl_region_get_btt_seed(region)));
	S(path, "pfn_seed", pfn_name(ndctl_region_get_pfn_seed(region)));
	S(path, "dax_seed", dax_name(ndctl_region_get_dax_seed(region)));
	same(path, "get_bus", ndctl_region_get_bus(region), bus, ndctl_bus_get_devname(bus));
	same(path, "get_ctx", ndctl_region_get_ctx(region), ctx, "ctx");

	/* Lookups by system physical address: first byte, last byte, one past the end. */
	if (size && resource != ~0ULL) {
		S(path, "region_by_physical_address(start)",
		  region_name(ndctl_bus_get_region_by_physical_address(bus, resource)));
		S(path, "region_by_physical_address(last)",
		  region_name(ndctl_bus_get_region_by_physical_address(bus, resource + size - 1)));
		S(path, "region_by_physical_address(end)",
		  region_name(ndctl_bus_get_region_by_physical_address(bus, resource + size)));
		S(path, "dimm_by_physical_address(start)",
		  dimm_name(ndctl_bus_get_dimm_by_physical_address(bus, resource)));
		S(path, "dimm_by_physical_address(last)",
		  dimm_name(ndctl_bus_get_dimm_by_physical_address(bus, resource + size - 1)));
	}

	/* Lookup by range index the way applications do it: by iteration. */
	same_range = 0;
	ndctl_region_foreach(bus, other)
		if (ndctl_region_get_range_index(other) == ndctl_region_get_range_index(region))
			same_range++;
	I(path, "regions_with_same_range_index", same_range);

	ndctl_dimm_foreach_in_region(region, dimm)
		S(path, "dimm", ndctl_dimm_get_devname(dimm));

	ndctl_mapping_foreach(region, mapping)
		walk_mapping(ctx, bus, region, path, mapping);

	iset = ndctl_region_get_interleave_set(region);
	S(path, "interleave_set", iset ? "present" : "none");
	if (iset)
		walk_iset(region, path, iset);

	ndctl_namespace_foreach(region, ndns)
		walk_namespace(ctx, bus, region, path, ndns);
	ndctl_btt_foreach(region, btt)
		walk_btt(ctx, bus, region, path, btt);
	ndctl_pfn_foreach(region, pfn)
		walk_pfn(ctx, bus, region, path, pfn);
	ndctl_dax_foreach(region, dax)
		walk_dax(ctx, bus, region, path, dax);

#ifdef WALK_CMD_SYSFS
	{
		struct badblock *bb;

		ndctl_region_badblock_foreach(region, bb)
			out(path, "cmd.badblock", "%llu+%u", bb->offset, bb->len);
	}
#endif
}

static void walk_bus(struct ndctl_ctx *ctx, struct ndctl_bus *bus)
{
	struct ndctl_interleave_set *iset;
	struct ndctl_region *region;
	struct ndctl_dimm *dimm;
	char path[128];
	int i, isets;

	snprintf(path, sizeof(path), "bus:%s", str(ndctl_bus_get_devname(bus)));
	U(path, "id", ndctl_bus_get_id(bus));
	S(path, "devname", ndctl_bus_get_devname(bus));
	S(path, "provider", ndctl_bus_get_provider(bus));
	U(path, "major", ndctl_bus_get_major(bus));
	U(path, "minor", ndctl_bus_get_minor(bus));
	U(path, "revision", ndctl_bus_get_revision(bus));
	I(path, "has_nfit", ndctl_bus_has_nfit(bus));
	I(path, "has_of_node", ndctl_bus_has_of_node(bus));
	I(path, "has_cxl", ndctl_bus_has_cxl(bus));
	I(path, "is_papr_scm", ndctl_bus_is_papr_scm(bus));
	I(path, "wait_probe", ndctl_bus_wait_probe(bus));
	I(path, "persistence_domain", (int)ndctl_bus_get_persistence_domain(bus));
	for (i = 0; i < WALK_MAX_CMD; i++) {
		char name[48];

		snprintf(name, sizeof(name), "is_cmd_supported(%d)", i);
		I(path, name, ndctl_bus_is_cmd_supported(bus, i));
		snprintf(name, sizeof(name), "is_nfit_cmd_supported(%d)", i);
		I(path, name, ndctl_bus_is_nfit_cmd_supported(bus, i));
		snprintf(name, sizeof(name), "cmd_name(%d)", i);
		S(path, name, ndctl_bus_get_cmd_name(bus, i));
	}
	same(path, "get_ctx", ndctl_bus_get_ctx(bus), ctx, "ctx");
	same(path, "get_by_provider", ndctl_bus_get_by_provider(ctx, ndctl_bus_get_provider(bus)),
	     bus, ndctl_bus_get_devname(bus));

#ifdef WALK_CMD_SYSFS
	I(path, "cmd.has_error_injection", ndctl_bus_has_error_injection(bus));
	I(path, "cmd.scrub_state", ndctl_bus_get_scrub_state(bus));
	U(path, "cmd.scrub_count", ndctl_bus_get_scrub_count(bus));
	I(path, "cmd.fw_activate_state", ndctl_bus_get_fw_activate_state(bus));
	I(path, "cmd.fw_activate_method", ndctl_bus_get_fw_activate_method(bus));
#endif

	ndctl_dimm_foreach(bus, dimm)
		walk_dimm(ctx, bus, path, dimm);

	isets = 0;
	ndctl_interleave_set_foreach(bus, iset) {
		isets++;
		S(path, "interleave_set.region", region_name(ndctl_interleave_set_get_region(iset)));
	}
	I(path, "interleave_sets", isets);

	ndctl_region_foreach(bus, region)
		walk_region(ctx, bus, path, region);
}

int main(void)
{
	struct ndctl_ctx *ctx;
	struct ndctl_bus *bus;
	int rc, buses = 0;

	rc = ndctl_new(&ctx);
	if (rc < 0 || !ctx) {
		fprintf(stderr, "walk: ndctl_new failed: %s\n", strerror(-rc));
		return 1;
	}
	S("ctx", "config_path", ndctl_get_config_path(ctx));
	I("ctx", "log_priority", ndctl_get_log_priority(ctx));
	S("ctx", "daxctl_ctx", ndctl_get_daxctl_ctx(ctx) ? "present" : "none");
	S("ctx", "bus_by_provider(no-such-provider)",
	  ndctl_bus_get_by_provider(ctx, "no-such-provider") ? "found" : "none");

	ndctl_bus_foreach(ctx, bus) {
		buses++;
		walk_bus(ctx, bus);
	}
	I("ctx", "buses", buses);

	/* A second pass after invalidation must find the same buses again. */
	ndctl_invalidate(ctx);
	rc = 0;
	ndctl_bus_foreach(ctx, bus)
		rc++;
	I("ctx", "buses_after_invalidate", rc);

	if (ndctl_unref(ctx) != NULL) {
		S("ctx", "unref", "MISMATCH");
		failures++;
	}
	return failures ? 1 : 0;
}
