/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Create a library context and list the buses it finds; exits 1 if there are none. */
#include "common.h"

int main(void)
{
	struct ndctl_ctx *ctx = new_ctx("context");
	struct ndctl_bus *bus;
	int buses = 0;

	ndctl_set_log_priority(ctx, 3);
	ndctl_bus_foreach(ctx, bus) {
		printf("%s provider=%s ndctl%u\n", ndctl_bus_get_devname(bus),
		       ndctl_bus_get_provider(bus), ndctl_bus_get_id(bus));
		buses++;
	}
	ndctl_unref(ctx);
	if (!buses) {
		fprintf(stderr, "context: no NVDIMM bus found\n");
		return EXIT_NOT_FOUND;
	}
	return 0;
}
