/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints the results of libndctl's context-free helpers over a sweep of inputs, so that
 * the same program linked against libndctl and against ours can be compared line by line.
 * Floating-point values are printed in %a notation, which is exact.
 */
#include <math.h>
#include <stdio.h>
#include <ndctl/libndctl.h>

int main(void)
{
	static const double specials[] = {
		0.0, -0.0, 0.0625, -0.0625, 0.5, -0.5, 23.0, -23.0, 23.99, 2047.9375, 2048.0,
		4096.0, -4096.0, 1e9, -1e9, 4294967295.0, 4294967296.0, 5e9, -5e9, 9.2e18,
		9.3e18, -9.3e18, 1e20, -1e20, 1e-300, -1e-300, NAN, -NAN, INFINITY, -INFINITY,
	};
	unsigned int i;
	double t;

	printf("min_namespace_size=%zu\n", ndctl_min_namespace_size());
	printf("sizeof_namespace_index=%zu\n", ndctl_sizeof_namespace_index());
	printf("sizeof_namespace_label=%zu\n", ndctl_sizeof_namespace_label());

	for (i = 0; i <= 0x10000; i++)
		printf("decode(%#x)=%a\n", i, ndctl_decode_smart_temperature(i));
	for (i = 0; i < 4096; i++) {
		unsigned int v = 0x10000u + i * 0x000fff01u;

		printf("decode(%#x)=%a\n", v, ndctl_decode_smart_temperature(v));
	}
	printf("decode(%#x)=%a\n", 0xffffffffu, ndctl_decode_smart_temperature(0xffffffffu));

	for (t = -300.0; t <= 300.0; t += 0.0625 * 3)
		printf("encode(%a)=%#x\n", t, ndctl_encode_smart_temperature(t));
	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		printf("encode(%a)=%#x\n", specials[i], ndctl_encode_smart_temperature(specials[i]));
	return 0;
}
