// SPDX-License-Identifier: LGPL-2.1
/*
 * cmd_groups: every command group of libndctl (issue 8) driven on the nfit_test mock.
 *
 * Run in the nfit_test guest once on Debian's libndctl (LD_LIBRARY_PATH) and once on the
 * project's (RUNPATH), each time right after nfit_test was reloaded; kernel_checks
 * compares the two outputs line by line, and the Rust API's example cmd_groups_rs prints
 * the same lines. So every line is deterministic for a given starting state:
 *
 *   <group> <step> <object> rc=<rc> [key=value ...]
 *
 * Objects are named by what does not depend on probe order (bus provider, DIMM handle,
 * region range index), addresses are printed relative to their region, and timed
 * emulation (ARS, firmware verify, overwrite) is waited out before anything is printed.
 * Steps the platform refuses print the refusal: the comparison is the point.
 *
 * Usage: cmd_groups [group...]   (default: all, in the order of `groups` below)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ndctl/libndctl.h>
#include <ndctl/ndctl.h>

#define MIB (1ULL << 20)

static struct ndctl_ctx *ctx;

static void out(const char *group, const char *step, const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void out(const char *group, const char *step, const char *obj, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s %s ", group, step, obj);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* FNV-1a: label images are compared by digest, not dumped. */
static uint32_t fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* ------------------------------------------------------------ stable names */

static char *dimm_name(struct ndctl_dimm *dimm)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 64, "%s/%#x", ndctl_bus_get_provider(ndctl_dimm_get_bus(dimm)),
		 ndctl_dimm_get_handle(dimm));
	return b;
}

static char *region_name(struct ndctl_region *region)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 64, "%s/r%u", ndctl_bus_get_provider(ndctl_region_get_bus(region)),
		 ndctl_region_get_range_index(region));
	return b;
}

static char *ns_name(struct ndctl_namespace *ndns)
{
	static char buf[4][96];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 96, "%s/ns%u", region_name(ndctl_namespace_get_region(ndns)),
		 ndctl_namespace_get_id(ndns));
	return b;
}

static struct ndctl_bus *bus_of(const char *provider)
{
	return ndctl_bus_get_by_provider(ctx, provider);
}

/* The DIMMs of a bus by handle (iteration order is the library's business). */
static int dimms_sorted(struct ndctl_bus *bus, struct ndctl_dimm **v, int max)
{
	struct ndctl_dimm *d;
	int n = 0, i, j;

	ndctl_dimm_foreach(bus, d)
		if (n < max)
			v[n++] = d;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ndctl_dimm_get_handle(v[j - 1]) > ndctl_dimm_get_handle(v[j]); j--) {
			struct ndctl_dimm *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n;
}

static int regions_sorted(struct ndctl_bus *bus, struct ndctl_region **v, int max)
{
	struct ndctl_region *r;
	int n = 0, i, j;

	ndctl_region_foreach(bus, r)
		if (n < max)
			v[n++] = r;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ndctl_region_get_range_index(v[j - 1]) >
				ndctl_region_get_range_index(v[j]); j--) {
			struct ndctl_region *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n;
}

static struct ndctl_region *region_of(const char *provider, unsigned int range_index)
{
	struct ndctl_bus *bus = bus_of(provider);
	struct ndctl_region *r;

	if (!bus)
		return NULL;
	ndctl_region_foreach(bus, r)
		if (ndctl_region_get_range_index(r) == range_index)
			return r;
	return NULL;
}

/* A bus address as "<region>+<offset>", or "outside" */
static const char *rel(struct ndctl_bus *bus, unsigned long long addr)
{
	static char buf[4][96];
	static int i;
	char *b = buf[i++ % 4];
	struct ndctl_region *r;

	ndctl_region_foreach(bus, r) {
		unsigned long long s = ndctl_region_get_resource(r);

		if (s != ULLONG_MAX && addr >= s && addr < s + ndctl_region_get_size(r)) {
			snprintf(b, 96, "%s+%#llx", region_name(r), addr - s);
			return b;
		}
	}
	snprintf(b, 96, "outside");
	return b;
}

static void set_bus_regions(const char *group, const char *provider, bool enable)
{
	struct ndctl_bus *bus = bus_of(provider);
	struct ndctl_region *v[16];
	int n, i;

	if (!bus)
		return;
	n = regions_sorted(bus, v, 16);
	for (i = 0; i < n; i++) {
		int rc = enable ? ndctl_region_enable(v[i]) : ndctl_region_disable_invalidate(v[i]);

		out(group, enable ? "region_enable" : "region_disable", region_name(v[i]), "rc=%d", rc);
	}
}

/* ------------------------------------------------------------ topology (§4.2) */

static void g_topology(void)
{
	const char *providers[] = { "nfit_test.0", "nfit_test.1" };
	unsigned int p;

	for (p = 0; p < 2; p++) {
		struct ndctl_bus *bus = bus_of(providers[p]);
		struct ndctl_dimm *dv[16];
		struct ndctl_region *rv[16];
		int nd, nr, i;

		if (!bus) {
			out("topology", "bus", providers[p], "rc=-19");
			continue;
		}
		out("topology", "bus", providers[p], "rc=0 scrub_count=%u error_injection=%d",
		    ndctl_bus_get_scrub_count(bus), ndctl_bus_has_error_injection(bus));
		nd = dimms_sorted(bus, dv, 16);
		for (i = 0; i < nd; i++) {
			struct ndctl_dimm *d = dv[i];
			int f, nf = ndctl_dimm_get_formats(d);

			printf("topology dimm %s rc=0 phys_id=%#x vendor=%#x device=%#x subsys_vendor=%#x "
			       "mfg_date=%#x mfg_location=%#x serial=%#x unique_id=%s dirty_shutdown=%lld "
			       "has_errors=%d failed_save=%d failed_arm=%d failed_restore=%d failed_flush=%d "
			       "failed_map=%d smart_pending=%d formats=%d",
			       dimm_name(d), ndctl_dimm_get_phys_id(d), ndctl_dimm_get_vendor(d),
			       ndctl_dimm_get_device(d), ndctl_dimm_get_subsystem_vendor(d),
			       ndctl_dimm_get_manufacturing_date(d),
			       ndctl_dimm_get_manufacturing_location(d), ndctl_dimm_get_serial(d),
			       ndctl_dimm_get_unique_id(d), ndctl_dimm_get_dirty_shutdown(d),
			       ndctl_dimm_has_errors(d), ndctl_dimm_failed_save(d),
			       ndctl_dimm_failed_arm(d), ndctl_dimm_failed_restore(d),
			       ndctl_dimm_failed_flush(d), ndctl_dimm_failed_map(d),
			       ndctl_dimm_smart_pending(d), nf);
			for (f = 0; f < nf && f < 4; f++)
				printf(" format%d=%#x", f, ndctl_dimm_get_formatN(d, f));
			printf(" cmds=");
			for (f = 0; f < 32; f++)
				if (ndctl_dimm_is_cmd_supported(d, f))
					printf("%d,", f);
			printf("\n");
		}
		nr = regions_sorted(bus, rv, 16);
		for (i = 0; i < nr; i++) {
			struct ndctl_region *r = rv[i];
			struct ndctl_interleave_set *iset = ndctl_region_get_interleave_set(r);
			struct ndctl_namespace *ns;

			out("topology", "region", region_name(r),
			    "rc=0 type=%s ways=%u enabled=%d size=%#llx available=%#llx mappings=%u "
			    "iset=%s iset_active=%d ro=%d",
			    ndctl_region_get_type_name(r), ndctl_region_get_interleave_ways(r),
			    ndctl_region_is_enabled(r), ndctl_region_get_size(r),
			    ndctl_region_get_available_size(r), ndctl_region_get_mappings(r),
			    iset ? "yes" : "no", iset ? ndctl_interleave_set_is_active(iset) : -1,
			    ndctl_region_get_ro(r));
			ndctl_namespace_foreach(r, ns) {
				char uuid[40] = "";
				uuid_t u;
				int s, nss = ndctl_namespace_get_num_sector_sizes(ns);

				ndctl_namespace_get_uuid(ns, u);
				for (s = 0; s < 16; s++)
					sprintf(uuid + 2 * s, "%02x", u[s]);
				printf("topology namespace %s rc=0 type=%s size=%#llx uuid=%s enabled=%d "
				       "sector_sizes=",
				       ns_name(ns), ndctl_namespace_get_type_name(ns),
				       ndctl_namespace_get_size(ns), uuid, ndctl_namespace_is_enabled(ns));
				for (s = 0; s < nss; s++)
					printf("%d,", ndctl_namespace_get_supported_sector_size(ns, s));
				printf("\n");
			}
		}
	}
	out("topology", "sizes", "ctx", "rc=0 label=%zu index=%zu min_namespace=%#zx",
	    ndctl_sizeof_namespace_label(), ndctl_sizeof_namespace_index(),
	    ndctl_min_namespace_size());
}

/* ------------------------------------------------------------ labels */

static void cfg_roundtrip(struct ndctl_dimm *d)
{
	const char *n = dimm_name(d);
	struct ndctl_cmd *size, *rd, *wr;
	unsigned char *buf, *back;
	unsigned int cfg;
	ssize_t got;
	int rc;

	size = ndctl_dimm_cmd_new_cfg_size(d);
	if (!size) {
		out("labels", "cfg_size", n, "rc=null");
		return;
	}
	rc = ndctl_cmd_submit(size);
	cfg = ndctl_cmd_cfg_size_get_size(size);
	out("labels", "cfg_size", n, "rc=%d status=%d fw=%#x size=%u", rc,
	    ndctl_cmd_get_status(size), ndctl_cmd_get_firmware_status(size), cfg);
	rd = ndctl_dimm_cmd_new_cfg_read(size);
	if (!rd) {
		out("labels", "cfg_read", n, "rc=null");
		ndctl_cmd_unref(size);
		return;
	}
	rc = ndctl_cmd_submit(rd);
	buf = calloc(1, cfg + 1);
	back = calloc(1, cfg + 1);
	got = ndctl_cmd_cfg_read_get_data(rd, buf, cfg, 0);
	out("labels", "cfg_read", n, "rc=%d size=%zd got=%zd digest=%08x", rc,
	    ndctl_cmd_cfg_read_get_size(rd), got, got > 0 ? fnv(buf, (size_t)got) : 0);
	/* 20 zero bytes, then "dimm-<handle>", then the whole area zeroed: each through a
	 * fresh write command (a submitted one takes no more data), each read back */
	memset(buf, 0, 20);
	wr = ndctl_dimm_cmd_new_cfg_write(rd);
	if (!wr) {
		out("labels", "cfg_write", n, "rc=null");
		goto done;
	}
	got = ndctl_cmd_cfg_write_set_data(wr, buf, 20, 0);
	rc = ndctl_cmd_submit(wr);
	out("labels", "cfg_write_zero20", n, "rc=%d set=%zd", rc, got);
	got = ndctl_cmd_cfg_write_set_data(wr, buf, 20, 0);
	out("labels", "cfg_write_resubmit_data", n, "rc=0 set=%zd", got);
	ndctl_cmd_unref(wr);
	rc = ndctl_cmd_submit(rd);
	got = ndctl_cmd_cfg_read_get_data(rd, back, 20, 0);
	out("labels", "cfg_reread_zero20", n, "rc=%d got=%zd equal=%d", rc, got,
	    got == 20 && memcmp(back, buf, 20) == 0);
	snprintf((char *)buf, 32, "dimm-%#x", ndctl_dimm_get_handle(d));
	wr = ndctl_dimm_cmd_new_cfg_write(rd);
	if (!wr)
		goto done;
	got = ndctl_cmd_cfg_write_set_data(wr, buf, (unsigned int)strlen((char *)buf), 0);
	rc = ndctl_cmd_submit(wr);
	out("labels", "cfg_write_name", n, "rc=%d set=%zd", rc, got);
	ndctl_cmd_unref(wr);
	rc = ndctl_cmd_submit(rd);
	got = ndctl_cmd_cfg_read_get_data(rd, back, (unsigned int)strlen((char *)buf), 0);
	out("labels", "cfg_reread_name", n, "rc=%d got=%zd equal=%d", rc, got,
	    got > 0 && memcmp(back, buf, (size_t)got) == 0);
	wr = ndctl_dimm_cmd_new_cfg_write(rd);
	if (!wr)
		goto done;
	got = ndctl_cmd_cfg_write_zero_data(wr);
	rc = ndctl_cmd_submit(wr);
	out("labels", "cfg_write_zero_all", n, "rc=%d set=%zd", rc, got);
	ndctl_cmd_unref(wr);
	rc = ndctl_cmd_submit(rd);
	got = ndctl_cmd_cfg_read_get_data(rd, back, cfg, 0);
	out("labels", "cfg_reread_all", n, "rc=%d got=%zd digest=%08x", rc, got,
	    got > 0 ? fnv(back, (size_t)got) : 0);
done:
	ndctl_cmd_unref(rd);
	ndctl_cmd_unref(size);
	free(buf);
	free(back);
}

static void label_state(struct ndctl_dimm *d, const char *step)
{
	/* in this order: validating decides the label size the helpers report */
	int validate = ndctl_dimm_validate_labels(d);
	unsigned int label = ndctl_dimm_sizeof_namespace_label(d);
	unsigned int index = ndctl_dimm_sizeof_namespace_index(d);
	unsigned long avail = ndctl_dimm_get_available_labels(d);

	out("labels", step, dimm_name(d), "rc=0 validate=%d sizeof_label=%u sizeof_index=%u available=%lu",
	    validate, label, index, avail);
}

static void read_labels(struct ndctl_dimm *d, const char *step)
{
	struct ndctl_cmd *rd = ndctl_dimm_read_labels(d);
	unsigned char *buf;
	ssize_t size, got;

	if (!rd) {
		out("labels", step, dimm_name(d), "rc=null errno=%d", errno);
		return;
	}
	size = ndctl_cmd_cfg_read_get_size(rd);
	buf = calloc(1, size > 0 ? (size_t)size : 1);
	got = ndctl_cmd_cfg_read_get_data(rd, buf, (unsigned int)(size > 0 ? size : 0), 0);
	out("labels", step, dimm_name(d), "rc=%d size=%zd got=%zd digest=%08x",
	    ndctl_cmd_get_status(rd), size, got, got > 0 ? fnv(buf, (size_t)got) : 0);
	free(buf);
	ndctl_cmd_unref(rd);
}

static void g_labels(void)
{
	struct ndctl_bus *bus = bus_of("nfit_test.0");
	struct ndctl_dimm *v[16];
	int n, i;

	if (!bus) {
		out("labels", "bus", "nfit_test.0", "rc=-19");
		return;
	}
	n = dimms_sorted(bus, v, 16);
	/* while the regions are active the kernel owns the labels */
	for (i = 0; i < n; i++) {
		struct ndctl_cmd *rd = ndctl_dimm_read_labels(v[i]);
		struct ndctl_cmd *wr = rd ? ndctl_dimm_cmd_new_cfg_write(rd) : NULL;
		int rc;

		if (!wr) {
			out("labels", "write_active", dimm_name(v[i]), "rc=null");
		} else {
			unsigned char z[8] = { 0 };

			ndctl_cmd_cfg_write_set_data(wr, z, sizeof(z), 0);
			rc = ndctl_cmd_submit(wr);
			out("labels", "write_active", dimm_name(v[i]), "rc=%d", rc);
			ndctl_cmd_unref(wr);
		}
		if (rd)
			ndctl_cmd_unref(rd);
	}
	set_bus_regions("labels", "nfit_test.0", false);
	for (i = 0; i < n; i++) {
		struct ndctl_dimm *d = v[i];
		struct ndctl_cmd *c;
		int rc;

		cfg_roundtrip(d);
		read_labels(d, "read_labels_blank");
		label_state(d, "state_blank");
		rc = ndctl_dimm_init_labels(d, NDCTL_NS_VERSION_1_1);
		out("labels", "init_v1.1", dimm_name(d), "rc=%d", rc);
		label_state(d, "state_v1.1");
		read_labels(d, "read_labels_v1.1");
		label_state(d, "state_v1.1_reread");
		c = ndctl_dimm_read_label_index(d);
		if (c) {
			out("labels", "read_label_index", dimm_name(d), "rc=%d size=%zd",
			    ndctl_cmd_get_status(c), ndctl_cmd_cfg_read_get_size(c));
			ndctl_cmd_unref(c);
		} else {
			out("labels", "read_label_index", dimm_name(d), "rc=null");
		}
		label_state(d, "state_index");
		rc = ndctl_dimm_init_labels(d, NDCTL_NS_VERSION_1_2);
		out("labels", "init_v1.2", dimm_name(d), "rc=%d", rc);
		read_labels(d, "read_labels_v1.2");
		label_state(d, "state_v1.2");
		c = ndctl_dimm_read_label_extent(d, 4096, 0);
		if (c) {
			unsigned char b[256];
			ssize_t got = ndctl_cmd_cfg_read_get_data(c, b, sizeof(b), 0);

			out("labels", "read_label_extent", dimm_name(d),
			    "rc=%d got=%zd digest=%08x", ndctl_cmd_get_status(c), got,
			    got > 0 ? fnv(b, (size_t)got) : 0);
			ndctl_cmd_unref(c);
		} else {
			out("labels", "read_label_extent", dimm_name(d), "rc=null");
		}
		rc = ndctl_dimm_zero_label_extent(d, 4096, 8192);
		out("labels", "zero_label_extent", dimm_name(d), "rc=%d", rc);
		read_labels(d, "read_labels_zext");
		rc = ndctl_dimm_zero_labels(d);
		out("labels", "zero_labels", dimm_name(d), "rc=%d", rc);
		read_labels(d, "read_labels_zeroed");
		label_state(d, "state_zeroed");
		/* leave v1.2 index blocks, as libndctl's own test does before namespaces */
		rc = ndctl_dimm_init_labels(d, NDCTL_NS_VERSION_1_2);
		out("labels", "reinit_v1.2", dimm_name(d), "rc=%d", rc);
	}
	set_bus_regions("labels", "nfit_test.0", true);
	/* nfit_test.1: a label-less DIMM answers the config commands */
	bus = bus_of("nfit_test.1");
	if (bus) {
		n = dimms_sorted(bus, v, 16);
		for (i = 0; i < n; i++) {
			read_labels(v[i], "read_labels_nolabel");
			label_state(v[i], "state_nolabel");
		}
	}
}

/* ------------------------------------------------------------ SMART */

static void smart_read(struct ndctl_dimm *d, const char *step)
{
	struct ndctl_cmd *c = ndctl_dimm_cmd_new_smart(d);
	int rc;

	if (!c) {
		out("smart", step, dimm_name(d), "rc=null");
		return;
	}
	rc = ndctl_cmd_submit_xlat(c);
	out("smart", step, dimm_name(d),
	    "rc=%d fw=%#x flags=%#x health=%#x temperature=%u media_temperature=%u "
	    "ctrl_temperature=%u spares=%u alarm_flags=%#x life_used=%u shutdown_state=%u "
	    "shutdown_count=%u vendor_size=%u",
	    rc, ndctl_cmd_get_firmware_status(c), ndctl_cmd_smart_get_flags(c),
	    ndctl_cmd_smart_get_health(c), ndctl_cmd_smart_get_temperature(c),
	    ndctl_cmd_smart_get_media_temperature(c), ndctl_cmd_smart_get_ctrl_temperature(c),
	    ndctl_cmd_smart_get_spares(c), ndctl_cmd_smart_get_alarm_flags(c),
	    ndctl_cmd_smart_get_life_used(c), ndctl_cmd_smart_get_shutdown_state(c),
	    ndctl_cmd_smart_get_shutdown_count(c), ndctl_cmd_smart_get_vendor_size(c));
	ndctl_cmd_unref(c);
}

static struct ndctl_cmd *threshold_read(struct ndctl_dimm *d, const char *step)
{
	struct ndctl_cmd *c = ndctl_dimm_cmd_new_smart_threshold(d);
	int rc;

	if (!c) {
		out("smart", step, dimm_name(d), "rc=null");
		return NULL;
	}
	rc = ndctl_cmd_submit_xlat(c);
	out("smart", step, dimm_name(d),
	    "rc=%d fw=%#x alarm_control=%#x temperature=%u media_temperature=%u "
	    "ctrl_temperature=%u spares=%u supported_alarms=%#x",
	    rc, ndctl_cmd_get_firmware_status(c), ndctl_cmd_smart_threshold_get_alarm_control(c),
	    ndctl_cmd_smart_threshold_get_temperature(c),
	    ndctl_cmd_smart_threshold_get_media_temperature(c),
	    ndctl_cmd_smart_threshold_get_ctrl_temperature(c),
	    ndctl_cmd_smart_threshold_get_spares(c),
	    ndctl_cmd_smart_threshold_get_supported_alarms(c));
	return c;
}

static void g_smart(void)
{
	const char *providers[] = { "nfit_test.0", "nfit_test.1" };
	unsigned int p;

	for (p = 0; p < 2; p++) {
		struct ndctl_bus *bus = bus_of(providers[p]);
		struct ndctl_dimm *v[16];
		int n, i;

		if (!bus)
			continue;
		n = dimms_sorted(bus, v, 16);
		for (i = 0; i < n; i++) {
			struct ndctl_dimm *d = v[i];
			struct ndctl_cmd *thr, *set;
			int fd = ndctl_dimm_get_health_eventfd(d);

			out("smart", "dimm", dimm_name(d),
			    "rc=0 inject_supported=%d health=%#x flags=%#x event_flags=%#x "
			    "flag_smart_event=%d eventfd=%s",
			    ndctl_dimm_smart_inject_supported(d), ndctl_dimm_get_health(d),
			    ndctl_dimm_get_flags(d), ndctl_dimm_get_event_flags(d),
			    ndctl_dimm_is_flag_supported(d, ND_SMART_ALARM_VALID),
			    fd >= 0 ? "yes" : "no");
			smart_read(d, "smart");
			thr = threshold_read(d, "threshold");
			if (!thr)
				continue;
			set = ndctl_dimm_cmd_new_smart_set_threshold(thr);
			if (!set) {
				out("smart", "set_threshold", dimm_name(d), "rc=null");
			} else {
				int a = ndctl_cmd_smart_threshold_set_alarm_control(set,
					ND_SMART_SPARE_TRIP | ND_SMART_TEMP_TRIP | ND_SMART_CTEMP_TRIP);
				int b = ndctl_cmd_smart_threshold_set_media_temperature(set, 45 * 16);
				int c = ndctl_cmd_smart_threshold_set_ctrl_temperature(set, 35 * 16);
				int e = ndctl_cmd_smart_threshold_set_spares(set, 10);
				int t = ndctl_cmd_smart_threshold_set_temperature(set, 44 * 16);
				int rc = ndctl_cmd_submit_xlat(set);

				out("smart", "set_threshold", dimm_name(d),
				    "rc=%d fw=%#x set=%d,%d,%d,%d,%d", rc,
				    ndctl_cmd_get_firmware_status(set), a, b, c, e, t);
				ndctl_cmd_unref(set);
				ndctl_cmd_unref(threshold_read(d, "threshold_after_set"));
			}
			ndctl_cmd_unref(thr);
		}
	}
}

static void g_smart_inject(void)
{
	struct ndctl_bus *bus = bus_of("nfit_test.0");
	struct ndctl_dimm *v[16];
	int n, i;

	if (!bus)
		return;
	n = dimms_sorted(bus, v, 16);
	for (i = 0; i < n && i < 2; i++) {
		struct ndctl_dimm *d = v[i];
		struct ndctl_cmd *c = ndctl_dimm_cmd_new_smart_inject(d);
		int rc;

		if (!c) {
			out("smart_inject", "new", dimm_name(d), "rc=null");
			continue;
		}
		out("smart_inject", "set", dimm_name(d), "rc=0 media=%d ctrl=%d spares=%d fatal=%d unsafe=%d",
		    ndctl_cmd_smart_inject_media_temperature(c, true, 52 * 16),
		    ndctl_cmd_smart_inject_ctrl_temperature(c, true, 61 * 16),
		    ndctl_cmd_smart_inject_spares(c, true, 7),
		    ndctl_cmd_smart_inject_fatal(c, i == 1),
		    ndctl_cmd_smart_inject_unsafe_shutdown(c, true));
		rc = ndctl_cmd_submit_xlat(c);
		out("smart_inject", "submit", dimm_name(d), "rc=%d fw=%#x", rc,
		    ndctl_cmd_get_firmware_status(c));
		ndctl_cmd_unref(c);
		smart_read(d, "smart_after_inject");
		out("smart_inject", "dimm", dimm_name(d), "rc=0 health=%#x flags=%#x",
		    ndctl_dimm_get_health(d), ndctl_dimm_get_flags(d));

		c = ndctl_dimm_cmd_new_smart_inject(d);
		if (!c)
			continue;
		out("smart_inject", "unset", dimm_name(d), "rc=0 media=%d ctrl=%d spares=%d fatal=%d unsafe=%d",
		    ndctl_cmd_smart_inject_media_temperature(c, false, 0),
		    ndctl_cmd_smart_inject_ctrl_temperature(c, false, 0),
		    ndctl_cmd_smart_inject_spares(c, false, 0),
		    ndctl_cmd_smart_inject_fatal(c, false),
		    ndctl_cmd_smart_inject_unsafe_shutdown(c, false));
		rc = ndctl_cmd_submit_xlat(c);
		out("smart_inject", "submit_unset", dimm_name(d), "rc=%d fw=%#x", rc,
		    ndctl_cmd_get_firmware_status(c));
		ndctl_cmd_unref(c);
		smart_read(d, "smart_after_uninject");

		c = ndctl_dimm_cmd_new_ack_shutdown_count(d);
		if (!c) {
			out("ack_shutdown", "new", dimm_name(d), "rc=null");
		} else {
			rc = ndctl_cmd_submit_xlat(c);
			out("ack_shutdown", "submit", dimm_name(d), "rc=%d fw=%#x", rc,
			    ndctl_cmd_get_firmware_status(c));
			ndctl_cmd_unref(c);
		}
		smart_read(d, "smart_after_ack");
	}
	bus = bus_of("nfit_test.1");
	if (bus && dimms_sorted(bus, v, 16) > 0) {
		out("smart_inject", "new", dimm_name(v[0]), "rc=%s",
		    ndctl_dimm_cmd_new_smart_inject(v[0]) ? "cmd" : "null");
		out("ack_shutdown", "new", dimm_name(v[0]), "rc=%s",
		    ndctl_dimm_cmd_new_ack_shutdown_count(v[0]) ? "cmd" : "null");
	}
}

/* ------------------------------------------------------------ ARS, clear error */

static void ars_status_settled(struct ndctl_bus *bus, struct ndctl_cmd *cap, const char *step)
{
	struct ndctl_cmd *st = NULL;
	unsigned int i, n;
	int rc = 0, tries;

	/* nfit_test answers busy for a second after a start: wait that out */
	for (tries = 0; tries < 40; tries++) {
		if (st)
			ndctl_cmd_unref(st);
		st = ndctl_bus_cmd_new_ars_status(cap);
		if (!st) {
			out("ars", step, ndctl_bus_get_provider(bus), "rc=null");
			return;
		}
		rc = ndctl_cmd_submit(st);
		if (rc != -EBUSY && !ndctl_cmd_ars_in_progress(st))
			break;
		sleep_ms(250);
	}
	n = ndctl_cmd_ars_num_records(st);
	out("ars", step, ndctl_bus_get_provider(bus), "rc=%d in_progress=%d records=%u overflow=%d",
	    rc, ndctl_cmd_ars_in_progress(st), n, ndctl_cmd_ars_stat_get_flag_overflow(st));
	for (i = 0; i < n; i++)
		out("ars", "record", ndctl_bus_get_provider(bus), "rc=0 index=%u addr=%s len=%#llx", i,
		    rel(bus, ndctl_cmd_ars_get_record_addr(st, i)),
		    ndctl_cmd_ars_get_record_len(st, i));
	ndctl_cmd_unref(st);
}

static struct ndctl_cmd *ars_cap(struct ndctl_bus *bus, struct ndctl_region *r)
{
	struct ndctl_cmd *cap;
	struct ndctl_range range = { 0, 0 };
	int rc, rrc;

	cap = ndctl_bus_cmd_new_ars_cap(bus, ndctl_region_get_resource(r), ndctl_region_get_size(r));
	if (!cap) {
		out("ars", "cap", region_name(r), "rc=null");
		return NULL;
	}
	rc = ndctl_cmd_submit(cap);
	rrc = ndctl_cmd_ars_cap_get_range(cap, &range);
	out("ars", "cap", region_name(r), "rc=%d fw=%#x size=%u clear_unit=%u range_rc=%d range=%s,%#llx",
	    rc, ndctl_cmd_get_firmware_status(cap), ndctl_cmd_ars_cap_get_size(cap),
	    ndctl_cmd_ars_cap_get_clear_unit(cap), rrc, rel(bus, range.address), range.length);
	return cap;
}

static void ars_round(struct ndctl_bus *bus, struct ndctl_region *r, const char *tag)
{
	struct ndctl_cmd *cap, *start;
	char step[64];
	int rc;

	cap = ars_cap(bus, r);
	if (!cap)
		return;
	rc = ndctl_bus_wait_for_scrub_completion(bus);
	out("ars", "wait_scrub", ndctl_bus_get_provider(bus), "rc=%d", rc);
	sleep_ms(1200);
	start = ndctl_bus_cmd_new_ars_start(cap, ND_ARS_PERSISTENT);
	if (!start) {
		out("ars", "start", region_name(r), "rc=null");
	} else {
		rc = ndctl_cmd_submit(start);
		out("ars", "start", region_name(r), "rc=%d fw=%#x", rc,
		    ndctl_cmd_get_firmware_status(start));
		ndctl_cmd_unref(start);
	}
	snprintf(step, sizeof(step), "status_%s", tag);
	ars_status_settled(bus, cap, step);
	ndctl_cmd_unref(cap);
}

static void g_ars(void)
{
	const char *providers[] = { "nfit_test.0", "nfit_test.1" };
	unsigned int p;

	for (p = 0; p < 2; p++) {
		struct ndctl_bus *bus = bus_of(providers[p]);
		struct ndctl_region *v[16];
		int n;

		if (!bus)
			continue;
		n = regions_sorted(bus, v, 16);
		if (n == 0)
			continue;
		ars_round(bus, v[0], "clean");
	}
}

/* ------------------------------------------------------------ namespaces, inject, badblocks */

static struct ndctl_namespace *make_namespace(struct ndctl_region *r, unsigned long long size,
					      unsigned char tag)
{
	struct ndctl_namespace *ns = ndctl_region_get_namespace_seed(r);
	uuid_t u;
	char alt[32];
	int rc;

	if (!ns) {
		out("namespace", "seed", region_name(r), "rc=null");
		return NULL;
	}
	/* as libndctl's own test: nfit_test memory is not 16M-aligned, so page * ways */
	rc = ndctl_region_set_align(r, 4096UL * ndctl_region_get_interleave_ways(r));
	out("namespace", "set_align", region_name(r), "rc=%d align=%#lx", rc, ndctl_region_get_align(r));
	memset(u, tag, sizeof(u));
	snprintf(alt, sizeof(alt), "cmd-groups-%u", tag);
	rc = ndctl_namespace_set_uuid(ns, u);
	out("namespace", "set_uuid", region_name(r), "rc=%d", rc);
	rc = ndctl_namespace_set_alt_name(ns, alt);
	out("namespace", "set_alt_name", region_name(r), "rc=%d", rc);
	rc = ndctl_namespace_set_size(ns, size);
	out("namespace", "set_size", region_name(r), "rc=%d", rc);
	rc = ndctl_namespace_set_sector_size(ns, 512);
	out("namespace", "set_sector_size", region_name(r), "rc=%d", rc);
	rc = ndctl_namespace_enable(ns);
	out("namespace", "enable", ns_name(ns), "rc=%d configured=%d size=%#llx mode=%d",
	    rc, ndctl_namespace_is_configured(ns), ndctl_namespace_get_size(ns),
	    ndctl_namespace_get_mode(ns));
	return ns;
}

static void print_badblocks(struct ndctl_region *r, struct ndctl_namespace *ns, const char *step)
{
	struct badblock *bb;
	char line[1024];
	int len = 0;

	line[0] = 0;
	ndctl_region_badblock_foreach(r, bb)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%llu+%u,", bb->offset, bb->len);
	out("badblocks", step, region_name(r), "rc=0 region=%s", line);
	if (!ns)
		return;
	len = 0;
	line[0] = 0;
	ndctl_namespace_badblock_foreach(ns, bb)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%llu+%u,", bb->offset, bb->len);
	out("badblocks", step, ns_name(ns), "rc=0 namespace=%s", line);
}

static void injection_status(struct ndctl_namespace *ns, const char *step)
{
	struct ndctl_bb *bb;
	char line[1024];
	int len = 0, rc;

	line[0] = 0;
	rc = ndctl_namespace_injection_status(ns);
	ndctl_namespace_bb_foreach(ns, bb)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%llu+%llu,",
				ndctl_bb_get_block(bb), ndctl_bb_get_count(bb));
	out("inject", step, ns_name(ns), "rc=%d injected=%s", rc, line);
}

static struct ndctl_namespace *inject_ns;

static void g_inject(void)
{
	struct ndctl_region *r = region_of("nfit_test.0", 1);
	struct ndctl_bus *bus = bus_of("nfit_test.0");
	struct ndctl_namespace *ns;
	struct ndctl_cmd *cap, *clear;
	unsigned long long start;
	int rc;

	if (!r || !bus) {
		out("inject", "region", "nfit_test.0/r1", "rc=-19");
		return;
	}
	ns = make_namespace(r, 18 * MIB, 0x11);
	if (!ns)
		return;
	inject_ns = ns;
	print_badblocks(r, ns, "before");
	injection_status(ns, "status_before");
	/* the flags are bit numbers: 1 << NDCTL_NS_INJECT_NOTIFY */
	rc = ndctl_namespace_inject_error2(ns, 64, 8, 1 << NDCTL_NS_INJECT_NOTIFY);
	out("inject", "inject", ns_name(ns), "rc=%d block=64 count=8 notify=1", rc);
	rc = ndctl_namespace_inject_error(ns, 1024, 1, false);
	out("inject", "inject_v1", ns_name(ns), "rc=%d block=1024 count=1 notify=0", rc);
	rc = ndctl_namespace_inject_error2(ns, 2048, 1, 1 << NDCTL_NS_INJECT_SATURATE);
	out("inject", "inject_saturate", ns_name(ns), "rc=%d block=2048 count=1 saturate=1", rc);
	injection_status(ns, "status_after");
	rc = ndctl_bus_wait_for_scrub_completion(bus);
	out("inject", "wait_scrub", "nfit_test.0", "rc=%d", rc);
	ars_round(bus, r, "injected");
	/* the kernel learns of the errors from a scrub of its own */
	sleep_ms(1200);
	rc = ndctl_bus_start_scrub(bus);
	out("inject", "start_scrub", "nfit_test.0", "rc=%d", rc);
	rc = ndctl_bus_wait_for_scrub_completion(bus);
	out("inject", "wait_scrub_again", "nfit_test.0", "rc=%d", rc);
	print_badblocks(r, ns, "after_inject");

	/* clear the first injected run through the bus command */
	cap = ndctl_bus_cmd_new_ars_cap(bus, ndctl_region_get_resource(r), ndctl_region_get_size(r));
	if (cap && ndctl_cmd_submit(cap) >= 0) {
		start = ndctl_namespace_get_resource(ns) + 64 * 512;
		clear = ndctl_bus_cmd_new_clear_error(start, 8 * 512, cap);
		if (!clear) {
			out("clear_error", "new", ns_name(ns), "rc=null");
		} else {
			rc = ndctl_cmd_submit(clear);
			out("clear_error", "submit", ns_name(ns), "rc=%d fw=%#x cleared=%#llx", rc,
			    ndctl_cmd_get_firmware_status(clear), ndctl_cmd_clear_error_get_cleared(clear));
			ndctl_cmd_unref(clear);
		}
		clear = ndctl_bus_cmd_new_clear_error(start + 1, 100, cap);
		out("clear_error", "unaligned", ns_name(ns), "rc=%s", clear ? "cmd" : "null");
		if (clear)
			ndctl_cmd_unref(clear);
	}
	if (cap)
		ndctl_cmd_unref(cap);
	print_badblocks(r, ns, "after_clear");
	rc = ndctl_namespace_uninject_error2(ns, 64, 8, 0);
	out("inject", "uninject", ns_name(ns), "rc=%d", rc);
	rc = ndctl_namespace_uninject_error(ns, 1024, 1);
	out("inject", "uninject_v1", ns_name(ns), "rc=%d", rc);
	rc = ndctl_namespace_uninject_error2(ns, 2048, 1, 1 << NDCTL_NS_INJECT_SATURATE);
	out("inject", "uninject_saturate", ns_name(ns), "rc=%d", rc);
	injection_status(ns, "status_uninjected");
	out("inject", "scrub_count", "nfit_test.0", "rc=0 scrub_state=%d",
	    ndctl_bus_get_scrub_state(bus));
	/* nfit_test.1 has no injection DSMs */
	r = region_of("nfit_test.1", 1);
	if (r) {
		struct ndctl_namespace *io;

		ndctl_namespace_foreach(r, io) {
			out("inject", "unsupported", ns_name(io), "rc=%d",
			    ndctl_namespace_inject_error2(io, 0, 1, 0));
			break;
		}
	}
}

/* ------------------------------------------------------------ firmware */

static void fw_update(struct ndctl_dimm *d)
{
	const char *n = dimm_name(d);
	struct ndctl_cmd *info, *start, *c;
	unsigned int max_send, i, sent = 0, pieces = 0;
	unsigned char image[12288];
	int rc, tries;

	out("firmware", "supported", n, "rc=%d", ndctl_dimm_fw_update_supported(d));
	info = ndctl_dimm_cmd_new_fw_get_info(d);
	if (!info) {
		out("firmware", "info", n, "rc=null");
		return;
	}
	rc = ndctl_cmd_submit(info);
	out("firmware", "info", n,
	    "rc=%d status=%d storage=%u max_send=%u query_interval=%u max_query=%u run=%#llx updated=%#llx",
	    rc, ndctl_cmd_fw_xlat_firmware_status(info), ndctl_cmd_fw_info_get_storage_size(info),
	    ndctl_cmd_fw_info_get_max_send_len(info), ndctl_cmd_fw_info_get_query_interval(info),
	    ndctl_cmd_fw_info_get_max_query_time(info), ndctl_cmd_fw_info_get_run_version(info),
	    ndctl_cmd_fw_info_get_updated_version(info));
	max_send = ndctl_cmd_fw_info_get_max_send_len(info);
	ndctl_cmd_unref(info);
	if (max_send == 0 || max_send == UINT_MAX)
		max_send = 4096;
	for (i = 0; i < sizeof(image); i++)
		image[i] = (unsigned char)(i * 7 + 3);

	start = ndctl_dimm_cmd_new_fw_start_update(d);
	if (!start) {
		out("firmware", "start", n, "rc=null");
		return;
	}
	rc = ndctl_cmd_submit(start);
	out("firmware", "start", n, "rc=%d status=%d context=%#x", rc,
	    ndctl_cmd_fw_xlat_firmware_status(start), ndctl_cmd_fw_start_get_context(start));
	while (sent < sizeof(image)) {
		unsigned int len = (unsigned int)sizeof(image) - sent;

		if (len > max_send)
			len = max_send;
		c = ndctl_dimm_cmd_new_fw_send(start, sent, len, image + sent);
		if (!c) {
			out("firmware", "send", n, "rc=null offset=%u", sent);
			break;
		}
		rc = ndctl_cmd_submit(c);
		if (rc < 0 || ndctl_cmd_fw_xlat_firmware_status(c) != FW_SUCCESS)
			out("firmware", "send", n, "rc=%d status=%d offset=%u", rc,
			    ndctl_cmd_fw_xlat_firmware_status(c), sent);
		ndctl_cmd_unref(c);
		sent += len;
		pieces++;
	}
	out("firmware", "sent", n, "rc=0 bytes=%u pieces=%u", sent, pieces);
	c = ndctl_dimm_cmd_new_fw_finish(start);
	if (c) {
		rc = ndctl_cmd_submit(c);
		out("firmware", "finish", n, "rc=%d status=%d", rc, ndctl_cmd_fw_xlat_firmware_status(c));
		ndctl_cmd_unref(c);
	}
	/* the mock verifies for a second: query until it stops answering busy */
	for (tries = 0; tries < 40; tries++) {
		c = ndctl_dimm_cmd_new_fw_finish_query(start);
		if (!c) {
			out("firmware", "query", n, "rc=null");
			break;
		}
		rc = ndctl_cmd_submit(c);
		if (rc >= 0 && ndctl_cmd_fw_xlat_firmware_status(c) == FW_EBUSY) {
			ndctl_cmd_unref(c);
			sleep_ms(250);
			continue;
		}
		out("firmware", "query", n, "rc=%d status=%d fw_rev=%#llx", rc,
		    ndctl_cmd_fw_xlat_firmware_status(c), ndctl_cmd_fw_fquery_get_fw_rev(c));
		ndctl_cmd_unref(c);
		break;
	}
	/* a second finish after the update is done: the mock wants an activation */
	c = ndctl_dimm_cmd_new_fw_finish(start);
	if (c) {
		rc = ndctl_cmd_submit(c);
		out("firmware", "finish_again", n, "rc=%d status=%d fw=%#x", rc,
		    ndctl_cmd_fw_xlat_firmware_status(c), ndctl_cmd_get_firmware_status(c));
		ndctl_cmd_unref(c);
	}
	ndctl_cmd_unref(start);
}

static void fw_abort(struct ndctl_dimm *d)
{
	const char *n = dimm_name(d);
	struct ndctl_cmd *start, *c;
	int rc;

	start = ndctl_dimm_cmd_new_fw_start_update(d);
	if (!start) {
		out("firmware", "abort_start", n, "rc=null");
		return;
	}
	rc = ndctl_cmd_submit(start);
	out("firmware", "abort_start", n, "rc=%d status=%d context=%#x", rc,
	    ndctl_cmd_fw_xlat_firmware_status(start), ndctl_cmd_fw_start_get_context(start));
	c = ndctl_dimm_cmd_new_fw_abort(start);
	if (c) {
		rc = ndctl_cmd_submit(c);
		out("firmware", "abort", n, "rc=%d status=%d fw=%#x", rc,
		    ndctl_cmd_fw_xlat_firmware_status(c), ndctl_cmd_get_firmware_status(c));
		ndctl_cmd_unref(c);
	}
	c = ndctl_dimm_cmd_new_fw_finish_query(start);
	if (c) {
		rc = ndctl_cmd_submit(c);
		out("firmware", "abort_query", n, "rc=%d status=%d", rc,
		    ndctl_cmd_fw_xlat_firmware_status(c));
		ndctl_cmd_unref(c);
	}
	ndctl_cmd_unref(start);
}

static void fwa_line(struct ndctl_bus *bus, struct ndctl_dimm **v, int n, const char *step)
{
	int i;

	out("fw_activate", step, ndctl_bus_get_provider(bus), "rc=0 state=%d method=%d",
	    ndctl_bus_get_fw_activate_state(bus), ndctl_bus_get_fw_activate_method(bus));
	for (i = 0; i < n; i++)
		out("fw_activate", step, dimm_name(v[i]), "rc=0 state=%d result=%d",
		    ndctl_dimm_get_fw_activate_state(v[i]), ndctl_dimm_get_fw_activate_result(v[i]));
}

static void g_firmware(void)
{
	struct ndctl_bus *bus = bus_of("nfit_test.0");
	struct ndctl_dimm *v[16];
	int n, i, rc;

	if (!bus)
		return;
	n = dimms_sorted(bus, v, 16);
	fwa_line(bus, v, n, "initial");
	if (n > 0) {
		fw_update(v[0]);
		fw_abort(v[1 % n]);
	}
	/* arm the updated DIMM and one that was not updated; disarm-rearm one */
	if (n > 1) {
		out("fw_activate", "arm", dimm_name(v[0]), "rc=%d", ndctl_dimm_fw_activate_arm(v[0]));
		out("fw_activate", "arm", dimm_name(v[1]), "rc=%d", ndctl_dimm_fw_activate_arm(v[1]));
		out("fw_activate", "disarm", dimm_name(v[1]), "rc=%d", ndctl_dimm_fw_activate_disarm(v[1]));
		out("fw_activate", "arm_again", dimm_name(v[1]), "rc=%d", ndctl_dimm_fw_activate_arm(v[1]));
	}
	fwa_line(bus, v, n, "armed");
	{
		/*
		 * nfit_test reports the suspend method, and a suspend (quiesce) activation
		 * freezes the whole TCG guest: activate live whatever the method reads, as
		 * `ndctl activate-firmware --force` does (the kernel accepts a live request).
		 */
		enum ndctl_fwa_method m;

		rc = ndctl_bus_set_fw_activate_noidle(bus);
		m = ndctl_bus_get_fw_activate_method(bus);
		out("fw_activate", "noidle", ndctl_bus_get_provider(bus), "rc=%d method=%d", rc, m);
		rc = ndctl_bus_activate_firmware(bus, NDCTL_FWA_METHOD_LIVE);
		out("fw_activate", "activate_live", ndctl_bus_get_provider(bus), "rc=%d method=%d", rc, m);
		rc = ndctl_bus_clear_fw_activate_noidle(bus);
		out("fw_activate", "clear_noidle", ndctl_bus_get_provider(bus), "rc=%d method=%d", rc,
		    ndctl_bus_get_fw_activate_method(bus));
	}
	/* the mock is busy for three seconds after an activation */
	sleep_ms(3500);
	fwa_line(bus, v, n, "after_activate");
	for (i = 0; i < n && i < 1; i++) {
		struct ndctl_cmd *info = ndctl_dimm_cmd_new_fw_get_info(v[i]);

		if (info) {
			rc = ndctl_cmd_submit(info);
			out("firmware", "info_after_activate", dimm_name(v[i]),
			    "rc=%d run=%#llx updated=%#llx", rc, ndctl_cmd_fw_info_get_run_version(info),
			    ndctl_cmd_fw_info_get_updated_version(info));
			ndctl_cmd_unref(info);
		}
	}
	bus = bus_of("nfit_test.1");
	if (bus && (n = dimms_sorted(bus, v, 16)) > 0) {
		out("firmware", "supported", dimm_name(v[0]), "rc=%d", ndctl_dimm_fw_update_supported(v[0]));
		fwa_line(bus, v, n, "nfit_test.1");
	}
}

/* ------------------------------------------------------------ security */

#define KEY_SPEC_SESSION_KEYRING -3
#define KEYCTL_JOIN_SESSION_KEYRING 1

static long add_key(const char *type, const char *desc, const void *payload, size_t len)
{
	return syscall(SYS_add_key, type, desc, payload, len, KEY_SPEC_SESSION_KEYRING);
}

static long new_nvdimm_key(const char *desc)
{
	const char *spec = "new enc32 user:nvdimm-master 32";

	return add_key("encrypted", desc, spec, strlen(spec));
}

static void sec_line(struct ndctl_dimm *d, const char *step, int rc)
{
	char path[256], text[64] = "";
	int state = ndctl_dimm_get_security(d);
	int frozen = ndctl_dimm_security_is_frozen(d);
	FILE *f;

	/* the kernel's own word beside the library's, for the reader of a difference */
	snprintf(path, sizeof(path), "/sys/bus/nd/devices/%s/security", ndctl_dimm_get_devname(d));
	f = fopen(path, "r");
	if (f) {
		if (!fgets(text, sizeof(text), f))
			snprintf(text, sizeof(text), "error");
		fclose(f);
	} else {
		snprintf(text, sizeof(text), "none");
	}
	text[strcspn(text, "\n")] = 0;
	out("security", step, dimm_name(d), "rc=%d state=%d frozen=%d sysfs=%s", rc, state, frozen,
	    text[0] ? text : "empty");
}

static void g_security(void)
{
	struct ndctl_bus *bus = bus_of("nfit_test.0");
	struct ndctl_dimm *v[16], *d;
	unsigned char master[32];
	char desc[128];
	long k1, k2, km, km2;
	int n, i, rc;

	if (!bus)
		return;
	n = dimms_sorted(bus, v, 16);
	for (i = 0; i < n; i++)
		sec_line(v[i], "state", 0);
	if (n < 2)
		return;
	d = v[n - 1];

	/* a private session keyring, so that the keys of another run are not in the way */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
		out("security", "keyring", "session", "rc=%d", -errno);
	for (i = 0; i < 32; i++)
		master[i] = (unsigned char)(i * 37 + 11);
	rc = add_key("user", "nvdimm-master", master, sizeof(master)) < 0 ? -errno : 0;
	out("security", "keyring", "nvdimm-master", "rc=%d", rc);
	snprintf(desc, sizeof(desc), "nvdimm:%s", ndctl_dimm_get_unique_id(d));
	k1 = new_nvdimm_key(desc);
	out("security", "keyring", "key1", "rc=%d", k1 < 0 ? -errno : 0);
	snprintf(desc, sizeof(desc), "nvdimm:%s-2", ndctl_dimm_get_unique_id(d));
	k2 = new_nvdimm_key(desc);
	out("security", "keyring", "key2", "rc=%d", k2 < 0 ? -errno : 0);
	snprintf(desc, sizeof(desc), "nvdimm-master:%s", ndctl_dimm_get_unique_id(d));
	km = new_nvdimm_key(desc);
	out("security", "keyring", "master1", "rc=%d", km < 0 ? -errno : 0);
	snprintf(desc, sizeof(desc), "nvdimm-master:%s-2", ndctl_dimm_get_unique_id(d));
	km2 = new_nvdimm_key(desc);
	out("security", "keyring", "master2", "rc=%d", km2 < 0 ? -errno : 0);

	sec_line(d, "update_0_k1", ndctl_dimm_update_passphrase(d, 0, k1));
	sec_line(d, "update_k2_k1_wrong", ndctl_dimm_update_passphrase(d, k2, k1));
	sec_line(d, "update_k1_k2", ndctl_dimm_update_passphrase(d, k1, k2));
	sec_line(d, "disable_k2", ndctl_dimm_disable_passphrase(d, k2));
	sec_line(d, "master_update_0_m1", ndctl_dimm_update_master_passphrase(d, 0, km));
	sec_line(d, "master_update_m1_m2", ndctl_dimm_update_master_passphrase(d, km, km2));
	sec_line(d, "update_0_k1_again", ndctl_dimm_update_passphrase(d, 0, k1));
	sec_line(d, "erase_active", ndctl_dimm_secure_erase(d, k1));
	set_bus_regions("security", "nfit_test.0", false);
	sec_line(d, "erase_k1", ndctl_dimm_secure_erase(d, k1));
	sec_line(d, "master_erase_m2", ndctl_dimm_master_secure_erase(d, km2));
	sec_line(d, "update_0_k1_third", ndctl_dimm_update_passphrase(d, 0, k1));
	sec_line(d, "overwrite_k1", ndctl_dimm_overwrite(d, k1));
	rc = ndctl_dimm_wait_overwrite(d);
	sec_line(d, "wait_overwrite", rc);
	/* the kernel polls the overwrite with a growing period: give it time */
	sleep_ms(15000);
	sec_line(d, "after_overwrite", 0);
	sec_line(d, "wait_overwrite_idle", ndctl_dimm_wait_overwrite(d));
	sec_line(d, "disable_master_m2", ndctl_dimm_disable_master_passphrase(d, km2));
	set_bus_regions("security", "nfit_test.0", true);
	/* freeze another DIMM (this one may still be busy with its overwrite) */
	d = v[n - 2];
	sec_line(d, "update_0_k1_other", ndctl_dimm_update_passphrase(d, 0, k1));
	sec_line(d, "freeze", ndctl_dimm_freeze_security(d));
	sec_line(d, "disable_frozen", ndctl_dimm_disable_passphrase(d, k1));
	sec_line(d, "update_frozen", ndctl_dimm_update_passphrase(d, k1, k2));
	sec_line(v[0], "freeze_disabled", ndctl_dimm_freeze_security(v[0]));
	bus = bus_of("nfit_test.1");
	if (bus && dimms_sorted(bus, v, 16) > 0)
		sec_line(v[0], "state_nfit_test.1", 0);
}

/* ------------------------------------------------------------ §4.2: BTT, PFN, DAX */

static void g_btt(void)
{
	static const unsigned int sizes[] = { 512, 520, 528, 4096, 4104, 4160, 4224 };
	struct ndctl_namespace *ns = inject_ns;
	struct ndctl_region *r;
	unsigned int i;

	if (!ns) {
		out("btt", "namespace", "none", "rc=-19");
		return;
	}
	r = ndctl_namespace_get_region(ns);
	out("btt", "disable_ns", ns_name(ns), "rc=%d", ndctl_namespace_disable_invalidate(ns));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct ndctl_btt *btt = ndctl_region_get_btt_seed(r);
		unsigned long long expect, got;
		uuid_t u;
		int rc;

		if (!btt) {
			out("btt", "seed", region_name(r), "rc=null");
			return;
		}
		memset(u, (int)(0x40 + i), sizeof(u));
		out("btt", "seed", region_name(r), "rc=0 enabled=%d nss=%d",
		    ndctl_btt_is_enabled(btt), ndctl_btt_get_num_sector_sizes(btt));
		ndctl_btt_set_uuid(btt, u);
		rc = ndctl_btt_set_sector_size(btt, sizes[i]);
		out("btt", "set_sector_size", region_name(r), "rc=%d size=%u", rc, sizes[i]);
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_SECTOR);
		rc = ndctl_btt_set_namespace(btt, ns);
		out("btt", "set_namespace", region_name(r), "rc=%d", rc);
		rc = ndctl_btt_enable(btt);
		/* §4.2: what libndctl's own test expects of an 18 MiB namespace */
		expect = sizes[i] < 4096 ? 0x11b5400ULL : 0x8daa000ULL;
		got = ndctl_btt_get_size(btt);
		out("btt", "enable", region_name(r), "rc=%d sector=%u btt_size=%#llx table=%s mode=%d",
		    rc, ndctl_btt_get_sector_size(btt), got,
		    ndctl_namespace_get_size(ns) != 18 * MIB ? "n/a" : got == expect ? "match" : "differ",
		    ndctl_namespace_get_mode(ns));
		rc = ndctl_btt_delete(btt);
		out("btt", "delete", region_name(r), "rc=%d", rc);
	}
}

static void g_pfn_dax(void)
{
	struct ndctl_namespace *ns = inject_ns;
	struct ndctl_region *r;
	struct ndctl_pfn *pfn;
	struct ndctl_dax *dax;
	char name[96];
	uuid_t u;
	int rc;

	if (!ns) {
		out("pfn", "namespace", "none", "rc=-19");
		return;
	}
	r = ndctl_namespace_get_region(ns);
	ndctl_namespace_disable_invalidate(ns);
	pfn = ndctl_region_get_pfn_seed(r);
	if (pfn) {
		memset(u, 0x51, sizeof(u));
		ndctl_pfn_set_uuid(pfn, u);
		ndctl_pfn_set_location(pfn, NDCTL_PFN_LOC_PMEM);
		rc = ndctl_pfn_set_align(pfn, 4096);
		out("pfn", "set_align", region_name(r), "rc=%d", rc);
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_FSDAX);
		ndctl_pfn_set_namespace(pfn, ns);
		rc = ndctl_pfn_enable(pfn);
		out("pfn", "enable", region_name(r), "rc=%d align=%lu size=%#llx resource_ok=%d mode=%d",
		    rc, ndctl_pfn_get_align(pfn), ndctl_pfn_get_size(pfn),
		    ndctl_pfn_get_resource(pfn) != ULLONG_MAX, ndctl_namespace_get_mode(ns));
		out("pfn", "delete", region_name(r), "rc=%d", ndctl_pfn_delete(pfn));
	} else {
		out("pfn", "seed", region_name(r), "rc=null");
	}
	dax = ndctl_region_get_dax_seed(r);
	if (dax) {
		memset(u, 0x52, sizeof(u));
		ndctl_dax_set_uuid(dax, u);
		ndctl_dax_set_location(dax, NDCTL_PFN_LOC_PMEM);
		rc = ndctl_dax_set_align(dax, 4096);
		out("dax", "set_align", region_name(r), "rc=%d", rc);
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_DEVDAX);
		ndctl_dax_set_namespace(dax, ns);
		rc = ndctl_dax_enable(dax);
		out("dax", "enable", region_name(r), "rc=%d align=%lu size=%#llx mode=%d", rc,
		    ndctl_dax_get_align(dax), ndctl_dax_get_size(dax), ndctl_namespace_get_mode(ns));
		out("dax", "delete", region_name(r), "rc=%d", ndctl_dax_delete(dax));
	} else {
		out("dax", "seed", region_name(r), "rc=null");
	}
	ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_RAW);
	rc = ndctl_namespace_enable(ns);
	out("namespace", "reenable", ns_name(ns), "rc=%d mode=%d", rc, ndctl_namespace_get_mode(ns));
	rc = ndctl_namespace_disable_safe(ns);
	out("namespace", "disable", ns_name(ns), "rc=%d", rc);
	snprintf(name, sizeof(name), "%s", ns_name(ns));
	rc = ndctl_namespace_delete(ns);
	out("namespace", "delete", name, "rc=%d", rc);
}

/*
 * §4.2's BTT size table for all three namespace sizes and the block-device checks of
 * libndctl's own test: 4 KiB of O_DIRECT I/O through every block device the model names
 * (btt, pfn, raw), the write cache of raw and fsdax namespaces, and what
 * ndctl_region_disable_preserve leaves of the region's namespace objects.
 */
static void block_io(const char *group, const char *dev, const char *obj)
{
	char path[128];
	void *buf = NULL, *back = NULL;
	int fd, rc = 0, same = 0;

	if (!dev) {
		out(group, "io", obj, "rc=null");
		return;
	}
	snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || posix_memalign(&buf, 4096, 4096) || posix_memalign(&back, 4096, 4096)) {
		out(group, "io", obj, "rc=%d", -errno);
		goto done;
	}
	memset(buf, 0x5a, 4096);
	if (pwrite(fd, buf, 4096, 8192) != 4096 || pread(fd, back, 4096, 8192) != 4096)
		rc = -errno;
	else
		same = memcmp(buf, back, 4096) == 0;
	out(group, "io", obj, "rc=%d same=%d", rc, same);
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(back);
}

static void write_cache(struct ndctl_namespace *ns, const char *step)
{
	int before = ndctl_namespace_write_cache_is_enabled(ns);
	int off = ndctl_namespace_disable_write_cache(ns);
	int during = ndctl_namespace_write_cache_is_enabled(ns);
	int on = ndctl_namespace_enable_write_cache(ns);

	out("write_cache", step, ns_name(ns), "rc=%d before=%d disable=%d during=%d enable=%d after=%d",
	    before < 0 ? before : 0, before, off, during, on,
	    ndctl_namespace_write_cache_is_enabled(ns));
}

/* libndctl frees a deleted namespace: its name is taken before the delete */
static void delete_namespace(struct ndctl_namespace *ns)
{
	char name[96];
	int rc = ndctl_namespace_disable_safe(ns);

	out("btt_table", "ns_disable", ns_name(ns), "rc=%d", rc);
	snprintf(name, sizeof(name), "%s", ns_name(ns));
	rc = ndctl_namespace_delete(ns);
	out("btt_table", "ns_delete", name, "rc=%d", rc);
}

static void g_btt_table(void)
{
	static const struct {
		unsigned long long ns_size, small, large;
	} table[] = {
		{ 18 * MIB, 0x11b5400ULL, 0x8daa000ULL },
		{ 20 * MIB, 0x13b1400ULL, 0x9d8a000ULL },
		{ 27 * MIB, 0x1aa3600ULL, 0xd51b000ULL },
	};
	static const unsigned int sizes[] = { 512, 4096 };
	struct ndctl_region *r = region_of("nfit_test.0", 2);
	struct ndctl_namespace *ns;
	struct ndctl_pfn *pfn;
	unsigned int t, i;
	uuid_t u;
	int rc;

	if (!r) {
		out("btt_table", "region", "nfit_test.0/r2", "rc=-19");
		return;
	}
	for (t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
		ns = make_namespace(r, table[t].ns_size, (unsigned char)(0x21 + t));
		if (!ns)
			return;
		out("btt_table", "raw", ns_name(ns), "rc=0 bdev=%d", ndctl_namespace_get_block_device(ns) != NULL);
		block_io("btt_table", ndctl_namespace_get_block_device(ns), ns_name(ns));
		write_cache(ns, "raw");
		rc = ndctl_namespace_disable_invalidate(ns);
		out("btt_table", "disable", ns_name(ns), "rc=%d", rc);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct ndctl_btt *btt = ndctl_region_get_btt_seed(r);
			unsigned long long expect = sizes[i] < 4096 ? table[t].small : table[t].large;
			unsigned long long got;

			if (!btt) {
				out("btt_table", "seed", region_name(r), "rc=null");
				break;
			}
			memset(u, (int)(0x60 + 2 * t + i), sizeof(u));
			ndctl_btt_set_uuid(btt, u);
			ndctl_btt_set_sector_size(btt, sizes[i]);
			ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_SECTOR);
			ndctl_btt_set_namespace(btt, ns);
			rc = ndctl_btt_enable(btt);
			got = ndctl_btt_get_size(btt);
			out("btt_table", "enable", ns_name(ns), "rc=%d ns_size=%#llx sector=%u btt_size=%#llx table=%s",
			    rc, table[t].ns_size, sizes[i], got, got == expect ? "match" : "differ");
			block_io("btt_table", ndctl_btt_get_block_device(btt), ns_name(ns));
			out("btt_table", "delete", ns_name(ns), "rc=%d", ndctl_btt_delete(btt));
		}
		pfn = ndctl_region_get_pfn_seed(r);
		if (pfn) {
			memset(u, (int)(0x70 + t), sizeof(u));
			ndctl_pfn_set_uuid(pfn, u);
			ndctl_pfn_set_location(pfn, NDCTL_PFN_LOC_PMEM);
			ndctl_pfn_set_align(pfn, 4096);
			ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_FSDAX);
			ndctl_pfn_set_namespace(pfn, ns);
			rc = ndctl_pfn_enable(pfn);
			out("btt_table", "pfn_enable", ns_name(ns), "rc=%d", rc);
			block_io("btt_table", ndctl_pfn_get_block_device(pfn), ns_name(ns));
			write_cache(ns, "fsdax");
			out("btt_table", "pfn_delete", ns_name(ns), "rc=%d", ndctl_pfn_delete(pfn));
		}
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_RAW);
		if (t + 1 < sizeof(table) / sizeof(table[0])) {
			delete_namespace(ns);
			continue;
		}
		/* the last one stays: disable_preserve keeps its object, made stale */
		rc = ndctl_namespace_enable(ns);
		out("btt_table", "reenable", ns_name(ns), "rc=%d valid=%d", rc, ndctl_namespace_is_valid(ns));
		rc = ndctl_region_disable_preserve(r);
		out("btt_table", "disable_preserve", region_name(r), "rc=%d enabled=%d ns_valid=%d",
		    rc, ndctl_region_is_enabled(r), ndctl_namespace_is_valid(ns));
		rc = ndctl_region_enable(r);
		out("btt_table", "region_enable", region_name(r), "rc=%d", rc);
		/* the re-enabled region assembled new objects: find the namespace again */
		ndctl_namespace_foreach(r, ns) {
			if (ndctl_namespace_get_size(ns) != table[t].ns_size)
				continue;
			out("btt_table", "found_again", ns_name(ns), "rc=0 valid=%d enabled=%d",
			    ndctl_namespace_is_valid(ns), ndctl_namespace_is_enabled(ns));
			delete_namespace(ns);
			break;
		}
	}
}

/*
 * §4.2, the two checks left: the health event descriptor fires once a SMART threshold
 * trips (nfit_test notifies when an enabled alarm's threshold is crossed), and a BTT on
 * the read-only nfit_test.1 region cannot be enabled.
 */
static int eventfd_ready(int fd, int timeout_ms, short *revents)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI | POLLERR };
	char buf[64];
	int rc = poll(&p, 1, timeout_ms);

	*revents = p.revents;
	/* a sysfs notification is consumed by reading the attribute again from the start */
	if (pread(fd, buf, sizeof(buf), 0) < 0)
		return -errno;
	return rc;
}

static void g_eventfd_ro(void)
{
	struct ndctl_bus *bus = bus_of("nfit_test.0");
	struct ndctl_region *ro;
	struct ndctl_namespace *ns;
	struct ndctl_dimm *v[16];
	struct ndctl_cmd *thr, *set;
	short ev = 0;
	int fd, rc;

	if (bus && dimms_sorted(bus, v, 16) > 0) {
		fd = ndctl_dimm_get_health_eventfd(v[0]);
		rc = fd < 0 ? fd : eventfd_ready(fd, 0, &ev);
		out("eventfd", "before", dimm_name(v[0]), "rc=%d fd=%s", rc < 0 ? rc : 0,
		    fd >= 0 ? "yes" : "no");
		rc = fd < 0 ? fd : eventfd_ready(fd, 0, &ev);
		out("eventfd", "quiet", dimm_name(v[0]), "rc=%d ready=%d", rc < 0 ? rc : 0, rc > 0);
		thr = ndctl_dimm_cmd_new_smart_threshold(v[0]);
		rc = thr ? ndctl_cmd_submit(thr) : -ENXIO;
		set = rc >= 0 ? ndctl_dimm_cmd_new_smart_set_threshold(thr) : NULL;
		if (set) {
			/* nfit_test's spares are 75: a threshold above them trips the alarm */
			ndctl_cmd_smart_threshold_set_alarm_control(set, ND_SMART_SPARE_TRIP);
			ndctl_cmd_smart_threshold_set_spares(set, 90);
			rc = ndctl_cmd_submit_xlat(set);
			out("eventfd", "trip_spares", dimm_name(v[0]), "rc=%d", rc);
			rc = fd < 0 ? fd : eventfd_ready(fd, 5000, &ev);
			out("eventfd", "after", dimm_name(v[0]), "rc=%d ready=%d pri=%d",
			    rc < 0 ? rc : 0, rc > 0, (ev & POLLPRI) != 0);
			ndctl_cmd_unref(set);
		} else {
			out("eventfd", "trip_spares", dimm_name(v[0]), "rc=%d", rc < 0 ? rc : -ENXIO);
		}
		ndctl_cmd_unref(thr);
	}
	ro = region_of("nfit_test.1", 1);
	if (!ro) {
		out("ro_region", "region", "nfit_test.1", "rc=-19");
		return;
	}
	ns = ndctl_namespace_get_first(ro);
	out("ro_region", "region", region_name(ro), "rc=0 ro=%d ns=%s", ndctl_region_get_ro(ro),
	    ns ? ndctl_namespace_get_type_name(ns) : "none");
	if (ns) {
		struct ndctl_btt *btt = ndctl_region_get_btt_seed(ro);
		uuid_t u;

		out("ro_region", "ns_disable", ns_name(ns), "rc=%d",
		    ndctl_namespace_disable_invalidate(ns));
		if (btt) {
			memset(u, 0x77, sizeof(u));
			ndctl_btt_set_uuid(btt, u);
			ndctl_btt_set_sector_size(btt, 4096);
			ndctl_btt_set_namespace(btt, ns);
			rc = ndctl_btt_enable(btt);
			out("ro_region", "btt_enable", region_name(ro), "rc=%d enabled=%d", rc < 0 ? -1 : rc,
			    ndctl_btt_is_enabled(btt));
			out("ro_region", "btt_delete", region_name(ro), "rc=%d", ndctl_btt_delete(btt));
		} else {
			out("ro_region", "btt_seed", region_name(ro), "rc=null");
		}
		out("ro_region", "ns_enable", ns_name(ns), "rc=%d", ndctl_namespace_enable(ns));
	}
}

/*
 * §4.2's autodetect checks: a namespace whose btt/pfn/dax was deleted (the info block
 * stays on the media) is claimed again by the kernel when it is re-enabled, with the
 * uuid and mode of that info block; the info blocks are then zeroed through the raw
 * namespace (force_raw), so the next claim starts clean.
 */
static int claim(struct ndctl_region *r, struct ndctl_namespace *ns, int kind, uuid_t u)
{
	if (kind == 0) {
		struct ndctl_btt *btt = ndctl_region_get_btt_seed(r);

		if (!btt)
			return -ENXIO;
		ndctl_btt_set_uuid(btt, u);
		ndctl_btt_set_sector_size(btt, 4096);
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_SECTOR);
		ndctl_btt_set_namespace(btt, ns);
		return ndctl_btt_enable(btt);
	}
	if (kind == 1) {
		struct ndctl_pfn *pfn = ndctl_region_get_pfn_seed(r);

		if (!pfn)
			return -ENXIO;
		ndctl_pfn_set_uuid(pfn, u);
		ndctl_pfn_set_location(pfn, NDCTL_PFN_LOC_PMEM);
		ndctl_pfn_set_align(pfn, 4096);
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_FSDAX);
		ndctl_pfn_set_namespace(pfn, ns);
		return ndctl_pfn_enable(pfn);
	}
	{
		struct ndctl_dax *dax = ndctl_region_get_dax_seed(r);

		if (!dax)
			return -ENXIO;
		ndctl_dax_set_uuid(dax, u);
		ndctl_dax_set_location(dax, NDCTL_PFN_LOC_PMEM);
		ndctl_dax_set_align(dax, 4096);
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_DEVDAX);
		ndctl_dax_set_namespace(dax, ns);
		return ndctl_dax_enable(dax);
	}
}

/* uuid and enabled state of what claims `ns` now, as "kind:uuid-matches:enabled" */
static void claimed_by(struct ndctl_namespace *ns, const uuid_t want, char *buf, size_t len)
{
	struct ndctl_btt *btt = ndctl_namespace_get_btt(ns);
	struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ns);
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ns);
	uuid_t u;

	memset(u, 0, sizeof(u));
	if (btt) {
		ndctl_btt_get_uuid(btt, u);
		snprintf(buf, len, "btt:%d:%d", memcmp(u, want, sizeof(u)) == 0, ndctl_btt_is_enabled(btt));
	} else if (pfn) {
		ndctl_pfn_get_uuid(pfn, u);
		snprintf(buf, len, "pfn:%d:%d", memcmp(u, want, sizeof(u)) == 0, ndctl_pfn_is_enabled(pfn));
	} else if (dax) {
		ndctl_dax_get_uuid(dax, u);
		snprintf(buf, len, "dax:%d:%d", memcmp(u, want, sizeof(u)) == 0, ndctl_dax_is_enabled(dax));
	} else {
		snprintf(buf, len, "none");
	}
}

static void zero_info_blocks(const char *group, struct ndctl_namespace *ns)
{
	char path[128];
	void *z = NULL;
	const char *bdev;
	int rc, fd = -1, w = 0;

	ndctl_namespace_set_raw_mode(ns, 1);
	rc = ndctl_namespace_enable(ns);
	bdev = ndctl_namespace_get_block_device(ns);
	if (rc >= 0 && bdev && posix_memalign(&z, 4096, 4096) == 0) {
		memset(z, 0, 4096);
		snprintf(path, sizeof(path), "/dev/%s", bdev);
		fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (fd >= 0)
			w = (pwrite(fd, z, 4096, 0) == 4096) + (pwrite(fd, z, 4096, 4096) == 4096);
	}
	out(group, "zero_info", ns_name(ns), "rc=%d bdev=%d written=%d", rc, bdev != NULL, w);
	if (fd >= 0)
		close(fd);
	free(z);
	out(group, "raw_disable", ns_name(ns), "rc=%d", ndctl_namespace_disable_invalidate(ns));
	ndctl_namespace_set_raw_mode(ns, 0);
}

static void g_autodetect(void)
{
	static const char *const kinds[] = { "btt", "pfn", "dax" };
	struct ndctl_region *r = region_of("nfit_test.0", 1);
	struct ndctl_namespace *ns;
	char what[32], name[96];
	int k, rc;

	if (!r) {
		out("autodetect", "region", "nfit_test.0/r1", "rc=-19");
		return;
	}
	ns = make_namespace(r, 18 * MIB, 0x31);
	if (!ns)
		return;
	out("autodetect", "disable", ns_name(ns), "rc=%d", ndctl_namespace_disable_invalidate(ns));
	for (k = 0; k < 3; k++) {
		uuid_t u;

		memset(u, 0x90 + k, sizeof(u));
		rc = claim(r, ns, k, u);
		out("autodetect", "claim", ns_name(ns), "rc=%d kind=%s mode=%d", rc, kinds[k],
		    ndctl_namespace_get_mode(ns));
		/* deletes the claim; its info block stays on the media */
		rc = ndctl_namespace_disable_invalidate(ns);
		claimed_by(ns, u, what, sizeof(what));
		out("autodetect", "deleted", ns_name(ns), "rc=%d claimed_by=%s", rc, what);
		rc = ndctl_namespace_enable(ns);
		claimed_by(ns, u, what, sizeof(what));
		out("autodetect", "reenable", ns_name(ns), "rc=%d claimed_by=%s mode=%d enforce=%d", rc,
		    what, ndctl_namespace_get_mode(ns), ndctl_namespace_get_enforce_mode(ns));
		out("autodetect", "disable_again", ns_name(ns), "rc=%d",
		    ndctl_namespace_disable_invalidate(ns));
		ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_RAW);
		zero_info_blocks("autodetect", ns);
	}
	rc = ndctl_namespace_enable(ns);
	{
		uuid_t none;

		memset(none, 0, sizeof(none));
		claimed_by(ns, none, what, sizeof(what));
	}
	out("autodetect", "clean_enable", ns_name(ns), "rc=%d claimed_by=%s mode=%d", rc, what,
	    ndctl_namespace_get_mode(ns));
	out("autodetect", "ns_disable", ns_name(ns), "rc=%d", ndctl_namespace_disable_safe(ns));
	snprintf(name, sizeof(name), "%s", ns_name(ns));
	out("autodetect", "ns_delete", name, "rc=%d", ndctl_namespace_delete(ns));
}

/*
 * §4.2's validate_dax: the libdaxctl region libndctl hands out for an enabled device-dax
 * matches the dax device (size, align, uuid, region id), is listed exactly once among the
 * libdaxctl context's regions, and holds one device of non-zero size.
 * libdaxctl is Debian's on both sides, loaded here by name, so only what libndctl
 * creates differs. The device node is opened, never mapped (mapping nfit_test's
 * vmalloc'd memory through device-dax oopses the 6.1 kernel).
 */
struct daxctl_dev;
#define DAXCTL(ret, name, ...) static ret (*name)(__VA_ARGS__)
DAXCTL(struct daxctl_region *, daxctl_region_get_first, struct daxctl_ctx *);
DAXCTL(struct daxctl_region *, daxctl_region_get_next, struct daxctl_region *);
DAXCTL(unsigned int, daxctl_region_get_id, struct daxctl_region *);
DAXCTL(unsigned long long, daxctl_region_get_size, struct daxctl_region *);
DAXCTL(unsigned long, daxctl_region_get_align, struct daxctl_region *);
DAXCTL(void, daxctl_region_get_uuid, struct daxctl_region *, uuid_t);
DAXCTL(struct daxctl_dev *, daxctl_dev_get_first, struct daxctl_region *);
DAXCTL(struct daxctl_dev *, daxctl_dev_get_next, struct daxctl_dev *);
DAXCTL(unsigned long long, daxctl_dev_get_size, struct daxctl_dev *);
DAXCTL(const char *, daxctl_dev_get_devname, struct daxctl_dev *);

static int load_daxctl(void)
{
	void *h = dlopen("libdaxctl.so.1", RTLD_NOW);

	if (!h)
		return -ENOENT;
#define SYM(name) if (!(*(void **)&name = dlsym(h, #name))) return -ENOENT
	SYM(daxctl_region_get_first);
	SYM(daxctl_region_get_next);
	SYM(daxctl_region_get_id);
	SYM(daxctl_region_get_size);
	SYM(daxctl_region_get_align);
	SYM(daxctl_region_get_uuid);
	SYM(daxctl_dev_get_first);
	SYM(daxctl_dev_get_next);
	SYM(daxctl_dev_get_size);
	SYM(daxctl_dev_get_devname);
#undef SYM
	return 0;
}

static void g_validate_dax(void)
{
	struct ndctl_region *r = region_of("nfit_test.0", 1);
	struct ndctl_namespace *ns;
	struct daxctl_region *dr, *it;
	struct daxctl_ctx *dctx;
	struct daxctl_dev *dev;
	struct ndctl_dax *dax;
	char path[128], name[96];
	int rc, seen = 0, devs = 0, nonzero = 0, opened;
	uuid_t u, got;

	rc = load_daxctl();
	out("validate_dax", "libdaxctl", "-", "rc=%d", rc);
	if (rc < 0 || !r)
		return;
	ns = make_namespace(r, 18 * MIB, 0x41);
	if (!ns)
		return;
	ndctl_namespace_disable_invalidate(ns);
	dax = ndctl_region_get_dax_seed(r);
	if (!dax) {
		out("validate_dax", "seed", region_name(r), "rc=null");
		return;
	}
	memset(u, 0xa1, sizeof(u));
	ndctl_dax_set_uuid(dax, u);
	ndctl_dax_set_location(dax, NDCTL_PFN_LOC_PMEM);
	ndctl_dax_set_align(dax, 4096);
	ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_DEVDAX);
	ndctl_dax_set_namespace(dax, ns);
	rc = ndctl_dax_enable(dax);
	out("validate_dax", "enable", region_name(r), "rc=%d", rc);
	dr = ndctl_dax_get_daxctl_region(dax);
	dctx = ndctl_get_daxctl_ctx(ctx);
	if (dr && dctx) {
		for (it = daxctl_region_get_first(dctx); it; it = daxctl_region_get_next(it))
			seen += it == dr;
		memset(got, 0, sizeof(got));
		daxctl_region_get_uuid(dr, got);
		for (dev = daxctl_dev_get_first(dr); dev; dev = daxctl_dev_get_next(dev)) {
			devs++;
			if (daxctl_dev_get_size(dev) == 0)
				continue;
			nonzero++;
			/*
			 * Not compared: on Debian's libndctl the device libdaxctl lists here is
			 * dax0.0, a device of an earlier claim that no longer exists (ENOENT),
			 * where ours lists the live one (dax0.2), whose node opens. So the open
			 * is only reported on stderr.
			 */
			snprintf(path, sizeof(path), "/dev/%s", daxctl_dev_get_devname(dev));
			opened = open(path, O_RDWR | O_CLOEXEC);
			if (opened >= 0)
				close(opened);
			fprintf(stderr, "validate_dax: %s opens: %s\n", path,
				opened >= 0 ? "yes" : strerror(errno));
		}
	}
	out("validate_dax", "region", region_name(r),
	    "rc=%d listed=%d size_eq=%d align_eq=%d uuid_eq=%d id_eq=%d devs=%d nonzero=%d",
	    dr && dctx ? 0 : -ENXIO, seen,
	    dr && daxctl_region_get_size(dr) == ndctl_dax_get_size(dax),
	    dr && daxctl_region_get_align(dr) == ndctl_dax_get_align(dax),
	    dr && memcmp(got, u, sizeof(u)) == 0,
	    dr && daxctl_region_get_id(dr) == ndctl_region_get_id(r), devs, nonzero);
	out("validate_dax", "delete", region_name(r), "rc=%d", ndctl_dax_delete(dax));
	ndctl_namespace_set_enforce_mode(ns, NDCTL_NS_MODE_RAW);
	zero_info_blocks("validate_dax", ns);
	out("validate_dax", "ns_disable", ns_name(ns), "rc=%d", ndctl_namespace_disable_safe(ns));
	snprintf(name, sizeof(name), "%s", ns_name(ns));
	out("validate_dax", "ns_delete", name, "rc=%d", ndctl_namespace_delete(ns));
}

/* ------------------------------------------------------------ main */

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{ "topology", g_topology },
	{ "smart", g_smart },
	{ "smart_inject", g_smart_inject },
	{ "ars", g_ars },
	{ "firmware", g_firmware },
	{ "labels", g_labels },
	{ "inject", g_inject },
	{ "btt", g_btt },
	{ "pfn_dax", g_pfn_dax },
	{ "btt_table", g_btt_table },
	{ "eventfd_ro", g_eventfd_ro },
	{ "autodetect", g_autodetect },
	{ "validate_dax", g_validate_dax },
	{ "security", g_security },
	{ "topology_end", g_topology },
};

int main(int argc, char **argv)
{
	unsigned int g;
	int rc = ndctl_new(&ctx);

	if (rc < 0) {
		printf("ctx new - rc=%d\n", rc);
		return 1;
	}
	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		int a, want = argc < 2;

		for (a = 1; a < argc; a++)
			if (strcmp(argv[a], groups[g].name) == 0)
				want = 1;
		if (!want)
			continue;
		printf("== %s\n", groups[g].name);
		fflush(stdout);
		groups[g].fn();
	}
	ndctl_unref(ctx);
	return 0;
}
