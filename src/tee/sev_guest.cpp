#include "tee/sev_guest.h"

#include <fcntl.h>
#include <linux/sev-guest.h>
#include <sodium.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tee/unique_fd.h"

namespace sg::tee {
namespace {

// MSG_KEY_RSP: u32 STATUS, 28 reserved bytes, then the 32-byte key.
constexpr std::size_t kKeyOffset = 0x20;
constexpr std::size_t kKeyBytes = 32;
constexpr uint8_t kMessageVersion = 1;

}  // namespace

SevGuestIoctl sev_guest_device(std::string path) {
  return [path = std::move(path)](unsigned long request, snp_guest_request_ioctl& call) -> int {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return -1;
    return ::ioctl(fd.get(), request, &call);
  };
}

Result<crypto::SecretKey> snp_derived_key(const SevGuestIoctl& ioctl, uint32_t vmpl) {
  snp_derived_key_req request{};
  request.root_key_select = 0;   // the chip's VCEK root, not the VMRK
  request.guest_field_select = kSnpKeyFieldPolicy | kSnpKeyFieldMeasurement;
  request.vmpl = vmpl;
  snp_derived_key_resp response{};
  snp_guest_request_ioctl call{};
  call.msg_version = kMessageVersion;
  call.req_data = reinterpret_cast<uintptr_t>(&request);
  call.resp_data = reinterpret_cast<uintptr_t>(&response);
  if (ioctl(SNP_GET_DERIVED_KEY, call) != 0) {
    const int error = errno;
    if (error == ENOENT || error == ENODEV)
      return fail(Errc::unsupported, std::string("no SEV-SNP guest device: ") + std::strerror(error) +
                                         " (is this an SEV-SNP guest with the sev-guest driver loaded?)");
    char codes[64];
    std::snprintf(codes, sizeof codes, " (firmware error %#x, hypervisor error %u)", unsigned(call.fw_error),
                  unsigned(call.vmm_error));
    return fail(Errc::io, std::string("SNP_GET_DERIVED_KEY: ") + std::strerror(error) + codes);
  }
  uint32_t status = 0;
  std::memcpy(&status, response.data, sizeof status);
  if (status != 0) {
    sodium_memzero(response.data, sizeof response.data);
    return fail(Errc::io, "the SEV-SNP firmware refused MSG_KEY_REQ with status " + std::to_string(status) +
                              " (at VMPL " + std::to_string(vmpl) + ")");
  }
  auto key = crypto::SecretKey::copy_of(crypto::ByteView(response.data + kKeyOffset, kKeyBytes));
  sodium_memzero(response.data, sizeof response.data);
  return key;
}

}  // namespace sg::tee
