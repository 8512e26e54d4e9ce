/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Find the region a DIMM contributes to, through the regions' mappings; a BLK region is
 * preferred when the platform has one: region_by_dimm [PROVIDER] [HANDLE]
 * (default nfit_test.0 and DIMM_HANDLE(0,0,0,0,0)).
 */
#include "common.h"

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	const char *h = arg(argc, argv, 2, NULL);
	unsigned int handle = h ? (unsigned int)number(h, "handle") : DIMM_HANDLE(0, 0, 0, 0, 0);
	struct ndctl_ctx *ctx = new_ctx("region_by_dimm");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	struct ndctl_dimm *dimm = bus ? ndctl_dimm_get_by_handle(bus, handle) : NULL;
	struct ndctl_region *region, *found = NULL;
	struct ndctl_mapping *mapping, *found_mapping = NULL;
	int rc = 0;

	if (dimm) {
		ndctl_region_foreach(bus, region) {
			ndctl_mapping_foreach(region, mapping) {
				if (ndctl_mapping_get_dimm(mapping) != dimm)
					continue;
				if (!found || strcmp(ndctl_region_get_type_name(region), "blk") == 0) {
					found = region;
					found_mapping = mapping;
				}
			}
		}
	}
	if (found) {
		printf("%s type=%s dimm=%s dpa=%#llx length=%llu\n",
		       ndctl_region_get_devname(found), ndctl_region_get_type_name(found),
		       ndctl_dimm_get_devname(dimm), ndctl_mapping_get_offset(found_mapping),
		       ndctl_mapping_get_length(found_mapping));
	} else {
		fprintf(stderr, "region_by_dimm: no region uses DIMM %#x on %s\n", handle, provider);
		rc = EXIT_NOT_FOUND;
	}
	ndctl_unref(ctx);
	return rc;
}
