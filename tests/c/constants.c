/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints every constant, enum value, struct layout and inline helper result that
 * <ndctl/libndctl.h> and <ndctl/ndctl.h> give their users, one "NAME=value" per line.
 * Built once against libndctl's installed headers and once against ours
 * (capi/tests/header.rs); the outputs must be identical.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>

/* libndctl's own ndctl.h needs this from its includer; ours does not. */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#include <ndctl/libndctl.h>
#include <ndctl/ndctl.h>

#define V(x) printf("%s=%lld\n", #x, (long long)(x))
#define SIZE(t) printf("sizeof(%s)=%zu\n", #t, sizeof(t))
#define OFF(t, f) printf("offsetof(%s,%s)=%zu\n", #t, #f, offsetof(t, f))

int main(void)
{
	unsigned int i;

	/* libndctl.h: #defines */
	V(ND_EVENT_SPARES_REMAINING); V(ND_EVENT_MEDIA_TEMPERATURE);
	V(ND_EVENT_CTRL_TEMPERATURE); V(ND_EVENT_HEALTH_STATE); V(ND_EVENT_UNCLEAN_SHUTDOWN);
	V(ND_SMART_INJECT_SPARES_REMAINING); V(ND_SMART_INJECT_MEDIA_TEMPERATURE);
	V(ND_SMART_INJECT_CTRL_TEMPERATURE); V(ND_SMART_INJECT_HEALTH_STATE);
	V(ND_SMART_INJECT_UNCLEAN_SHUTDOWN);
	V(ND_SMART_HEALTH_VALID); V(ND_SMART_SPARES_VALID); V(ND_SMART_USED_VALID);
	V(ND_SMART_MTEMP_VALID); V(ND_SMART_TEMP_VALID); V(ND_SMART_CTEMP_VALID);
	V(ND_SMART_SHUTDOWN_COUNT_VALID); V(ND_SMART_AIT_STATUS_VALID); V(ND_SMART_PTEMP_VALID);
	V(ND_SMART_ALARM_VALID); V(ND_SMART_SHUTDOWN_VALID); V(ND_SMART_VENDOR_VALID);
	V(ND_SMART_SPARE_TRIP); V(ND_SMART_MTEMP_TRIP); V(ND_SMART_TEMP_TRIP);
	V(ND_SMART_CTEMP_TRIP);
	V(ND_SMART_NON_CRITICAL_HEALTH); V(ND_SMART_CRITICAL_HEALTH); V(ND_SMART_FATAL_HEALTH);
	V(ND_PASSPHRASE_SIZE); V(ND_KEY_DESC_LEN); V(ND_KEY_DESC_PREFIX); V(ND_KEY_DESC_SIZE);
	V(ND_KEY_CMD_SIZE); V(NUMA_NO_NODE); V(NUMA_NO_ATTR);

	/* libndctl.h: enums */
	V(PERSISTENCE_NONE); V(PERSISTENCE_MEM_CTRL); V(PERSISTENCE_CPU_CACHE);
	V(PERSISTENCE_UNKNOWN);
	V(NDCTL_FWA_INVALID); V(NDCTL_FWA_IDLE); V(NDCTL_FWA_ARMED); V(NDCTL_FWA_BUSY);
	V(NDCTL_FWA_ARM_OVERFLOW);
	V(NDCTL_FWA_METHOD_RESET); V(NDCTL_FWA_METHOD_SUSPEND); V(NDCTL_FWA_METHOD_LIVE);
	V(NDCTL_FWA_RESULT_INVALID); V(NDCTL_FWA_RESULT_NONE); V(NDCTL_FWA_RESULT_SUCCESS);
	V(NDCTL_FWA_RESULT_NOTSTAGED); V(NDCTL_FWA_RESULT_NEEDRESET); V(NDCTL_FWA_RESULT_FAIL);
	V(NDCTL_NS_VERSION_1_1); V(NDCTL_NS_VERSION_1_2);
	V(NDCTL_NS_MODE_MEMORY); V(NDCTL_NS_MODE_FSDAX); V(NDCTL_NS_MODE_SAFE);
	V(NDCTL_NS_MODE_SECTOR); V(NDCTL_NS_MODE_RAW); V(NDCTL_NS_MODE_DAX);
	V(NDCTL_NS_MODE_DEVDAX); V(NDCTL_NS_MODE_UNKNOWN);
	V(NDCTL_NS_INJECT_NOTIFY); V(NDCTL_NS_INJECT_SATURATE);
	V(NDCTL_PFN_LOC_NONE); V(NDCTL_PFN_LOC_RAM); V(NDCTL_PFN_LOC_PMEM);
	V(FW_SUCCESS); V(FW_ENOTSUPP); V(FW_ENOTEXIST); V(FW_EINVAL); V(FW_EHWERR);
	V(FW_ERETRY); V(FW_EUNKNOWN); V(FW_ENORES); V(FW_ENOTREADY); V(FW_EBUSY);
	V(FW_EINVAL_CTX); V(FW_ALREADY_DONE); V(FW_EBADFW); V(FW_ABORTED); V(FW_ESEQUENCE);
	V(NDCTL_SECURITY_INVALID); V(NDCTL_SECURITY_DISABLED); V(NDCTL_SECURITY_UNLOCKED);
	V(NDCTL_SECURITY_LOCKED); V(NDCTL_SECURITY_FROZEN); V(NDCTL_SECURITY_OVERWRITE);
	/* Signedness of the enum types shows in conversions of negative values. */
	V((enum ndctl_security_state)-1 < 0);
	V((enum ndctl_namespace_mode)-1 < 0);

	/* libndctl.h: public structs and uuid_t */
	SIZE(struct badblock); OFF(struct badblock, offset); OFF(struct badblock, len);
	SIZE(struct ndctl_range); OFF(struct ndctl_range, address);
	OFF(struct ndctl_range, length);
	SIZE(uuid_t);

	/* ndctl.h */
	V(ND_CMD_IMPLEMENTED); V(ND_CMD_ARS_CAP); V(ND_CMD_ARS_START); V(ND_CMD_ARS_STATUS);
	V(ND_CMD_CLEAR_ERROR); V(ND_CMD_SMART); V(ND_CMD_SMART_THRESHOLD);
	V(ND_CMD_DIMM_FLAGS); V(ND_CMD_GET_CONFIG_SIZE); V(ND_CMD_GET_CONFIG_DATA);
	V(ND_CMD_SET_CONFIG_DATA); V(ND_CMD_VENDOR_EFFECT_LOG_SIZE);
	V(ND_CMD_VENDOR_EFFECT_LOG); V(ND_CMD_VENDOR); V(ND_CMD_CALL);
	V(ND_ARS_VOLATILE); V(ND_ARS_PERSISTENT); V(ND_ARS_RETURN_PREV_DATA);
	V(ND_CONFIG_LOCKED);
	V(ND_IOCTL); V(ND_IOCTL_DIMM_FLAGS); V(ND_IOCTL_GET_CONFIG_SIZE);
	V(ND_IOCTL_GET_CONFIG_DATA); V(ND_IOCTL_SET_CONFIG_DATA); V(ND_IOCTL_VENDOR);
	V(ND_IOCTL_ARS_CAP); V(ND_IOCTL_ARS_START); V(ND_IOCTL_ARS_STATUS);
	V(ND_IOCTL_CLEAR_ERROR); V(ND_IOCTL_CALL);
	V(ND_DEVICE_DIMM); V(ND_DEVICE_REGION_PMEM); V(ND_DEVICE_REGION_BLK);
	V(ND_DEVICE_NAMESPACE_IO); V(ND_DEVICE_NAMESPACE_PMEM); V(ND_DEVICE_NAMESPACE_BLK);
	V(ND_DEVICE_DAX_PMEM);
	V(ND_DRIVER_DIMM); V(ND_DRIVER_REGION_PMEM); V(ND_DRIVER_REGION_BLK);
	V(ND_DRIVER_NAMESPACE_IO); V(ND_DRIVER_NAMESPACE_PMEM); V(ND_DRIVER_NAMESPACE_BLK);
	V(ND_DRIVER_DAX_PMEM);
	V(ND_MIN_NAMESPACE_SIZE);
	V(ARS_STATUS_MASK); V(ARS_EXT_STATUS_SHIFT);
	V(NVDIMM_FAMILY_INTEL); V(NVDIMM_FAMILY_HPE1); V(NVDIMM_FAMILY_HPE2);
	V(NVDIMM_FAMILY_MSFT); V(NVDIMM_FAMILY_HYPERV); V(NVDIMM_FAMILY_PAPR);

	SIZE(struct nd_cmd_dimm_flags); SIZE(struct nd_cmd_get_config_size);
	SIZE(struct nd_cmd_get_config_data_hdr); SIZE(struct nd_cmd_set_config_hdr);
	SIZE(struct nd_cmd_vendor_hdr); SIZE(struct nd_cmd_vendor_tail);
	SIZE(struct nd_cmd_ars_cap); SIZE(struct nd_cmd_ars_start);
	SIZE(struct nd_cmd_ars_status); SIZE(struct nd_ars_record);
	SIZE(struct nd_cmd_clear_error); SIZE(struct nd_cmd_pkg);
	OFF(struct nd_cmd_ars_cap, clear_err_unit); OFF(struct nd_cmd_ars_start, status);
	OFF(struct nd_cmd_ars_status, num_records); OFF(struct nd_cmd_ars_status, records);
	OFF(struct nd_ars_record, err_address); OFF(struct nd_cmd_clear_error, cleared);
	OFF(struct nd_cmd_pkg, nd_size_out); OFF(struct nd_cmd_pkg, nd_fw_size);
	OFF(struct nd_cmd_pkg, nd_payload);
	OFF(struct nd_cmd_get_config_data_hdr, out_buf);
	OFF(struct nd_cmd_vendor_tail, out_buf);

	for (i = 0; i < 13; i++) {
		printf("nvdimm_bus_cmd_name(%u)=%s\n", i, nvdimm_bus_cmd_name(i));
		printf("nvdimm_cmd_name(%u)=%s\n", i, nvdimm_cmd_name(i));
	}
	return 0;
}
