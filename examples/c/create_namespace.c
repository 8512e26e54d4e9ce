/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Create a raw PMEM namespace from a region's namespace seed:
 *     create_namespace [--configure-only] [PROVIDER] [RANGE_INDEX] [SIZE]
 * (default nfit_test.0, 1, and the largest free extent of the region). The seed gets a
 * random uuid, an alt name and the size, then is enabled. --configure-only stops before
 * enabling and checks what the library reads back (useful on a captured tree, where no
 * kernel driver can bind).
 */
#include "common.h"

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	unsigned int idx = (unsigned int)number(arg(argc, argv, 2, "1"), "range index");
	const char *size_arg = arg(argc, argv, 3, NULL);
	int configure_only = has_flag(argc, argv, "--configure-only");
	struct ndctl_ctx *ctx = new_ctx("create_namespace");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	struct ndctl_region *region = bus ? pmem_region_by_range_index(bus, idx) : NULL;
	struct ndctl_namespace *seed = region ? ndctl_region_get_namespace_seed(region) : NULL;
	unsigned long long size, align;
	uuid_t uu, check;
	int rc = 0;

	if (!seed || strcmp(ndctl_namespace_get_type_name(seed), "namespace_pmem") != 0) {
		fprintf(stderr, "create_namespace: no PMEM namespace seed in range index %u of %s\n",
			idx, provider);
		rc = EXIT_NOT_FOUND;
		goto out;
	}
	size = size_arg ? number(size_arg, "size") : ndctl_region_get_max_available_extent(region);
	align = ndctl_region_get_align(region);
	if (align && align != (unsigned long)-1)
		size -= size % align;
	if (size < ndctl_min_namespace_size()) {
		fprintf(stderr, "create_namespace: %s has no room for a namespace\n",
			ndctl_region_get_devname(region));
		rc = EXIT_NOT_FOUND;
		goto out;
	}
	rc = random_uuid(uu);
	if (!rc)
		rc = ndctl_namespace_set_uuid(seed, uu);
	if (!rc)
		rc = ndctl_namespace_set_alt_name(seed, "example-namespace");
	if (!rc)
		rc = ndctl_namespace_set_size(seed, size);
	if (rc) {
		fprintf(stderr, "create_namespace: configuring %s: %s\n",
			ndctl_namespace_get_devname(seed), strerror(-rc));
		rc = EXIT_ERROR;
		goto out;
	}
	ndctl_namespace_get_uuid(seed, check);
	if (memcmp(uu, check, sizeof(uu)) != 0 || ndctl_namespace_get_size(seed) != size ||
	    strcmp(ndctl_namespace_get_alt_name(seed), "example-namespace") != 0) {
		fprintf(stderr, "create_namespace: %s does not read back its settings\n",
			ndctl_namespace_get_devname(seed));
		rc = EXIT_ERROR;
		goto out;
	}
	if (!configure_only) {
		rc = ndctl_namespace_enable(seed);
		if (rc < 0) {
			fprintf(stderr, "create_namespace: enabling %s: %s\n",
				ndctl_namespace_get_devname(seed), strerror(-rc));
			rc = EXIT_ERROR;
			goto out;
		}
	}
	printf("%s size=%llu alt_name=%s %s block_device=%s\n",
	       ndctl_namespace_get_devname(seed), ndctl_namespace_get_size(seed),
	       ndctl_namespace_get_alt_name(seed), configure_only ? "configured" : "enabled",
	       ndctl_namespace_get_block_device(seed));
	rc = 0;
out:
	ndctl_unref(ctx);
	return rc;
}
