/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Find a namespace by its id within the PMEM region of an SPA range index:
 * namespace_by_id [PROVIDER] [RANGE_INDEX] [ID] (default nfit_test.0, 1 and 0).
 */
#include "common.h"

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	unsigned int idx = (unsigned int)number(arg(argc, argv, 2, "1"), "range index");
	unsigned int id = (unsigned int)number(arg(argc, argv, 3, "0"), "namespace id");
	struct ndctl_ctx *ctx = new_ctx("namespace_by_id");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	struct ndctl_region *region = bus ? pmem_region_by_range_index(bus, idx) : NULL;
	struct ndctl_namespace *ndns, *found = NULL;
	int rc = 0;

	if (region)
		ndctl_namespace_foreach(region, ndns)
			if (ndctl_namespace_get_id(ndns) == id)
				found = ndns;
	if (found) {
		printf("%s type=%s size=%llu region=%s\n", ndctl_namespace_get_devname(found),
		       ndctl_namespace_get_type_name(found), ndctl_namespace_get_size(found),
		       ndctl_region_get_devname(ndctl_namespace_get_region(found)));
	} else {
		fprintf(stderr, "namespace_by_id: no namespace %u in range index %u of %s\n", id,
			idx, provider);
		rc = EXIT_NOT_FOUND;
	}
	ndctl_unref(ctx);
	return rc;
}
