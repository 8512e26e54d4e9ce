/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Find a bus by its provider name: bus_by_provider [PROVIDER] (default nfit_test.0). */
#include "common.h"

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	struct ndctl_ctx *ctx = new_ctx("bus_by_provider");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	int rc = 0;

	if (bus) {
		printf("%s provider=%s ndctl%u\n", ndctl_bus_get_devname(bus),
		       ndctl_bus_get_provider(bus), ndctl_bus_get_id(bus));
	} else {
		fprintf(stderr, "bus_by_provider: no bus with provider %s\n", provider);
		rc = EXIT_NOT_FOUND;
	}
	ndctl_unref(ctx);
	return rc;
}
