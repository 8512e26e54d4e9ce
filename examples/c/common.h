/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers of the libndctl C examples. Each example prints what it found and exits
 * 0, exits 1 when the object it looks for is not there, and 2 on an error.
 */
#ifndef NDCTL_EXAMPLE_COMMON_H
#define NDCTL_EXAMPLE_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ndctl/libndctl.h>

#define EXIT_NOT_FOUND 1
#define EXIT_ERROR 2

/* The NFIT DIMM handle of node n, socket s, memory controller i, channel c, slot d. */
#define DIMM_HANDLE(n, s, i, c, d) \
	((((n) & 0xfff) << 16) | (((s) & 0xf) << 12) | (((i) & 0xf) << 8) | \
	 (((c) & 0xf) << 4) | ((d) & 0xf))

/* The bus provider the examples look for unless told otherwise (the kernel's test bus). */
#define DEFAULT_PROVIDER "nfit_test.0"

/* Positional argument i (counting from 1, options excluded), or fallback. */
static inline const char *arg(int argc, char **argv, int i, const char *fallback)
{
	int k, seen = 0;

	for (k = 1; k < argc; k++) {
		if (argv[k][0] == '-' && argv[k][1] == '-')
			continue;
		if (++seen == i)
			return argv[k];
	}
	return fallback;
}

static inline int has_flag(int argc, char **argv, const char *flag)
{
	int k;

	for (k = 1; k < argc; k++)
		if (strcmp(argv[k], flag) == 0)
			return 1;
	return 0;
}

static inline unsigned long long number(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "invalid %s: %s\n", what, s);
		exit(EXIT_ERROR);
	}
	return v;
}

/* A new library context; exits with EXIT_ERROR if there is none. */
static inline struct ndctl_ctx *new_ctx(const char *prog)
{
	struct ndctl_ctx *ctx;
	int rc = ndctl_new(&ctx);

	if (rc < 0) {
		fprintf(stderr, "%s: ndctl_new: %s\n", prog, strerror(-rc));
		exit(EXIT_ERROR);
	}
	return ctx;
}

/* The PMEM region of bus with NFIT SPA range index idx, or NULL. */
static inline struct ndctl_region *pmem_region_by_range_index(struct ndctl_bus *bus,
							      unsigned int idx)
{
	struct ndctl_region *region;

	ndctl_region_foreach(bus, region) {
		if (strcmp(ndctl_region_get_type_name(region), "pmem") != 0)
			continue;
		if (ndctl_region_get_range_index(region) == idx)
			return region;
	}
	return NULL;
}

/* Fills uu with a random (version 4) UUID; returns 0 or -errno. */
static inline int random_uuid(uuid_t uu)
{
	FILE *f = fopen("/dev/urandom", "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(uu, 1, 16, f);
	fclose(f);
	if (n != 16)
		return -EIO;
	uu[6] = (uu[6] & 0x0f) | 0x40;
	uu[8] = (uu[8] & 0x3f) | 0x80;
	return 0;
}

#endif
