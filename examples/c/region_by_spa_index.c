/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Find the PMEM region that an NFIT SPA range describes, by the range's index:
 * region_by_spa_index [PROVIDER] [RANGE_INDEX] (default nfit_test.0 and 1).
 */
#include "common.h"

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	unsigned int idx = (unsigned int)number(arg(argc, argv, 2, "1"), "range index");
	struct ndctl_ctx *ctx = new_ctx("region_by_spa_index");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	struct ndctl_region *region = bus ? pmem_region_by_range_index(bus, idx) : NULL;
	int rc = 0;

	if (region) {
		printf("%s range_index=%u size=%llu ways=%u\n", ndctl_region_get_devname(region),
		       ndctl_region_get_range_index(region), ndctl_region_get_size(region),
		       ndctl_region_get_interleave_ways(region));
	} else {
		fprintf(stderr, "region_by_spa_index: no PMEM region with range index %u on %s\n",
			idx, provider);
		rc = EXIT_NOT_FOUND;
	}
	ndctl_unref(ctx);
	return rc;
}
