/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Put a BTT (sector mode) on a configured, disabled PMEM namespace, using the region's
 * btt seed:
 *     create_btt [--configure-only] [PROVIDER] [RANGE_INDEX] [SECTOR_SIZE]
 * (default nfit_test.0, 1 and 4096). --configure-only stops before enabling the btt.
 */
#include "common.h"

/* A namespace a btt can claim: PMEM, configured, not enabled, unclaimed. */
static struct ndctl_namespace *idle_namespace(struct ndctl_region *region)
{
	struct ndctl_namespace *ndns;

	ndctl_namespace_foreach(region, ndns) {
		if (strcmp(ndctl_namespace_get_type_name(ndns), "namespace_pmem") != 0)
			continue;
		if (ndctl_namespace_get_size(ndns) == 0 || ndctl_namespace_is_configured(ndns) <= 0)
			continue;
		if (ndctl_namespace_is_enabled(ndns) || ndctl_namespace_get_btt(ndns) ||
		    ndctl_namespace_get_pfn(ndns) || ndctl_namespace_get_dax(ndns))
			continue;
		return ndns;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	unsigned int idx = (unsigned int)number(arg(argc, argv, 2, "1"), "range index");
	unsigned int sector = (unsigned int)number(arg(argc, argv, 3, "4096"), "sector size");
	int configure_only = has_flag(argc, argv, "--configure-only");
	struct ndctl_ctx *ctx = new_ctx("create_btt");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	struct ndctl_region *region = bus ? pmem_region_by_range_index(bus, idx) : NULL;
	struct ndctl_namespace *ndns = region ? idle_namespace(region) : NULL;
	struct ndctl_btt *btt = region ? ndctl_region_get_btt_seed(region) : NULL;
	uuid_t uu;
	int rc;

	if (!ndns || !btt) {
		fprintf(stderr, "create_btt: no %s in range index %u of %s\n",
			ndns ? "btt seed" : "idle configured namespace", idx, provider);
		rc = EXIT_NOT_FOUND;
		goto out;
	}
	rc = random_uuid(uu);
	if (!rc)
		rc = ndctl_btt_set_uuid(btt, uu);
	if (!rc)
		rc = ndctl_btt_set_sector_size(btt, sector);
	if (!rc)
		rc = ndctl_namespace_set_enforce_mode(ndns, NDCTL_NS_MODE_SECTOR);
	if (!rc)
		rc = ndctl_btt_set_namespace(btt, ndns);
	if (rc) {
		fprintf(stderr, "create_btt: configuring %s for %s: %s\n", ndctl_btt_get_devname(btt),
			ndctl_namespace_get_devname(ndns), strerror(-rc));
		rc = EXIT_ERROR;
		goto out;
	}
	if (ndctl_btt_get_sector_size(btt) != sector || ndctl_btt_get_namespace(btt) != ndns) {
		fprintf(stderr, "create_btt: %s does not read back its settings\n",
			ndctl_btt_get_devname(btt));
		rc = EXIT_ERROR;
		goto out;
	}
	if (!configure_only) {
		rc = ndctl_btt_enable(btt);
		if (rc < 0) {
			fprintf(stderr, "create_btt: enabling %s: %s\n", ndctl_btt_get_devname(btt),
				strerror(-rc));
			rc = EXIT_ERROR;
			goto out;
		}
	}
	printf("%s namespace=%s sector_size=%u %s block_device=%s\n", ndctl_btt_get_devname(btt),
	       ndctl_namespace_get_devname(ndns), ndctl_btt_get_sector_size(btt),
	       configure_only ? "configured" : "enabled", ndctl_btt_get_block_device(btt));
	rc = 0;
out:
	ndctl_unref(ctx);
	return rc;
}
