/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Find a DIMM by its NFIT handle: dimm_by_handle [PROVIDER] [HANDLE]
 * (default nfit_test.0 and DIMM_HANDLE(0,0,0,0,0)).
 */
#include "common.h"

int main(int argc, char **argv)
{
	const char *provider = arg(argc, argv, 1, DEFAULT_PROVIDER);
	const char *h = arg(argc, argv, 2, NULL);
	unsigned int handle = h ? (unsigned int)number(h, "handle") : DIMM_HANDLE(0, 0, 0, 0, 0);
	struct ndctl_ctx *ctx = new_ctx("dimm_by_handle");
	struct ndctl_bus *bus = ndctl_bus_get_by_provider(ctx, provider);
	struct ndctl_dimm *dimm = bus ? ndctl_dimm_get_by_handle(bus, handle) : NULL;
	int rc = 0;

	if (dimm) {
		printf("%s handle=%#x (node %u socket %u imc %u channel %u dimm %u) phys_id=%u\n",
		       ndctl_dimm_get_devname(dimm), ndctl_dimm_get_handle(dimm),
		       ndctl_dimm_handle_get_node(dimm), ndctl_dimm_handle_get_socket(dimm),
		       ndctl_dimm_handle_get_imc(dimm), ndctl_dimm_handle_get_channel(dimm),
		       ndctl_dimm_handle_get_dimm(dimm), ndctl_dimm_get_phys_id(dimm));
	} else {
		fprintf(stderr, "dimm_by_handle: no DIMM %#x on %s\n", handle, provider);
		rc = EXIT_NOT_FOUND;
	}
	ndctl_unref(ctx);
	return rc;
}
