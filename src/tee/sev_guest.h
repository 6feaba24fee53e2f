// /dev/sev-guest: a SEV-SNP guest's own requests to the AMD secure processor, for what configfs-tsm does not offer,
// and for kernels without configfs-tsm. Reports come through SNP_GET_REPORT (MSG_REPORT_REQ) when the configfs-tsm
// root is absent. The tsm backend seals with the firmware's derived key (MSG_KEY_REQ through SNP_GET_DERIVED_KEY): derived from
// the chip's VCEK root and mixed with this guest's launch MEASUREMENT and POLICY, so only the same image launched
// with the same policy, on the same chip, derives it again (a debug-policy launch derives another key).
//
// Each request goes through a SevGuestIoctl: the device's, or a test's fake playing the firmware.
#pragma once

#include <functional>
#include <string>

#include "crypto/hash.h"
#include "crypto/secret_key.h"
#include "tee/error.h"

struct snp_guest_request_ioctl;

namespace sg::tee {

// ioctl(2) on the guest device: the result, with errno set when it is -1.
using SevGuestIoctl = std::function<int(unsigned long request, snp_guest_request_ioctl& call)>;

// Opens `path` for each request (nothing is held open between seals).
[[nodiscard]] SevGuestIoctl sev_guest_device(std::string path);

// MSG_KEY_REQ's GUEST_FIELD_SELECT bits this build mixes into the key (AMD SEV-SNP ABI 56860, MSG_KEY_REQ).
inline constexpr uint64_t kSnpKeyFieldPolicy = 1u << 0;
inline constexpr uint64_t kSnpKeyFieldMeasurement = 1u << 3;

// An attestation report (0x4A0 bytes) carrying `report_data`, requested at `vmpl`. Errors as snp_derived_key's.
[[nodiscard]] Result<crypto::Bytes> snp_report(const SevGuestIoctl& ioctl, const crypto::Digest64& report_data, uint32_t vmpl);

// The 32-byte derived key for a guest running at `vmpl` (a guest may ask only at its own VMPL or a less
// privileged one). Errc::unsupported when the device is absent; Errc::io naming the firmware's and the
// hypervisor's error codes otherwise.
[[nodiscard]] Result<crypto::SecretKey> snp_derived_key(const SevGuestIoctl& ioctl, uint32_t vmpl);

}  // namespace sg::tee
