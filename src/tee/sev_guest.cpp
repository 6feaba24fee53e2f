#include "tee/sev_guest.h"

#include <fcntl.h>
#include <linux/sev-guest.h>
#include <sodium.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "attest/snp_report.h"
#include "tee/unique_fd.h"

namespace sg::tee {

SevGuestIoctl sev_guest_device(std::string path) {
  return [path = std::move(path)](unsigned long request, snp_guest_request_ioctl& call) -> int {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return -1;
    return ::ioctl(fd.get(), request, &call);
  };
}

namespace {

// MSG_KEY_RSP: u32 STATUS, 28 reserved bytes, then the 32-byte key.
constexpr std::size_t kKeyOffset = 0x20;
constexpr std::size_t kReportOffset = 0x20;
constexpr std::size_t kKeyBytes = 32;
constexpr uint8_t kMessageVersion = 1;

// One request through `ioctl`; errno and the firmware/hypervisor codes become the error.
Status request(const SevGuestIoctl& ioctl, unsigned long type, const char* name, void* req, void* resp) {
  snp_guest_request_ioctl call{};
  call.msg_version = kMessageVersion;
  call.req_data = reinterpret_cast<uintptr_t>(req);
  call.resp_data = reinterpret_cast<uintptr_t>(resp);
  if (ioctl(type, call) == 0) return {};
  const int error = errno;
  if (error == ENOENT || error == ENODEV)
    return fail(Errc::unsupported, std::string("no SEV-SNP guest device: ") + std::strerror(error) +
                                       " (is this an SEV-SNP guest with the sev-guest driver loaded?)");
  char codes[64];
  std::snprintf(codes, sizeof codes, " (firmware error %#x, hypervisor error %u)", unsigned(call.fw_error),
                unsigned(call.vmm_error));
  return fail(Errc::io, std::string(name) + ": " + std::strerror(error) + codes);
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);   // little-endian, as the firmware writes and this x86 reads
  return v;
}

}  // namespace

Result<crypto::Bytes> snp_report(const SevGuestIoctl& ioctl, const crypto::Digest64& report_data, uint32_t vmpl) {
  snp_report_req req{};
  std::copy(report_data.begin(), report_data.end(), req.user_data);
  req.vmpl = vmpl;
  snp_report_resp resp{};
  if (auto sent = request(ioctl, SNP_GET_REPORT, "SNP_GET_REPORT", &req, &resp); !sent) return crypto::unexpected(sent.error());
  // MSG_REPORT_RSP: u32 STATUS, u32 REPORT_SIZE, 24 reserved bytes, then the report.
  const uint32_t status = load_u32(resp.data), size = load_u32(resp.data + 4);
  if (status != 0)
    return fail(Errc::io, "the SEV-SNP firmware refused MSG_REPORT_REQ with status " + std::to_string(status) +
                              " (at VMPL " + std::to_string(vmpl) + ")");
  if (size != attest::kSnpReportBytes)
    return fail(Errc::evidence, "MSG_REPORT_RSP says its report has " + std::to_string(size) + " bytes, not " +
                                    std::to_string(attest::kSnpReportBytes));
  return crypto::Bytes(resp.data + kReportOffset, resp.data + kReportOffset + size);
}

Result<crypto::SecretKey> snp_derived_key(const SevGuestIoctl& ioctl, uint32_t vmpl) {
  snp_derived_key_req req{};
  req.root_key_select = 0;   // the chip's VCEK root, not the VMRK
  req.guest_field_select = kSnpKeyFieldPolicy | kSnpKeyFieldMeasurement;
  req.vmpl = vmpl;
  snp_derived_key_resp resp{};
  if (auto sent = request(ioctl, SNP_GET_DERIVED_KEY, "SNP_GET_DERIVED_KEY", &req, &resp); !sent)
    return crypto::unexpected(sent.error());
  const uint32_t status = load_u32(resp.data);
  if (status != 0) {
    sodium_memzero(resp.data, sizeof resp.data);
    return fail(Errc::io, "the SEV-SNP firmware refused MSG_KEY_REQ with status " + std::to_string(status) +
                              " (at VMPL " + std::to_string(vmpl) + ")");
  }
  auto key = crypto::SecretKey::copy_of(crypto::ByteView(resp.data + kKeyOffset, kKeyBytes));
  sodium_memzero(resp.data, sizeof resp.data);
  return key;
}

}  // namespace sg::tee
