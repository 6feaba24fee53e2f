#include "tee/attestation_tsm.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto/sealing.h"
#include "tee/file_io.h"
#include "tee/hardware_evidence.h"

namespace sg::tee {
namespace {

constexpr std::size_t kMaxReportBytes = 64 * 1024;

// A configfs attribute holding one decimal number.
Result<uint64_t> read_number(const std::string& path) {
  auto text = read_file(path, 64);
  if (!text) return crypto::unexpected(text.error());
  const std::string s(text->begin(), text->end());
  char* end = nullptr;
  const unsigned long long value = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || end == s.c_str() || (*end != '\0' && *end != '\n')) return fail(Errc::io, path + ": not a number");
  return uint64_t(value);
}

Result<uint64_t> read_generation(const std::string& entry) { return read_number(entry + "/generation"); }

std::string trimmed(const Bytes& bytes) {
  std::string s(bytes.begin(), bytes.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

Result<attest::Platform> tsm_platform(const std::string& provider) {
  if (provider == "tdx_guest") return attest::Platform::tdx;
  if (provider == "sev_guest") return attest::Platform::sev_snp;
  return fail(Errc::evidence, "tsm provider '" + provider + "' is not tdx_guest or sev_guest");
}

Result<std::unique_ptr<AttestationBackend>> TsmBackend::create(const EnclaveConfig& config, SevGuestIoctl sev_guest) {
  if (!sev_guest) sev_guest = sev_guest_device(config.sev_guest_device);
  std::unique_ptr<TsmBackend> backend(
      new TsmBackend(config.tsm_report_root + "/sliceguard-" + std::to_string(::getpid()), std::move(sev_guest)));
  // Without configfs-tsm (kernels before 6.7), an SNP guest still reports through /dev/sev-guest.
  struct stat root {};
  backend->configfs_ = ::stat(config.tsm_report_root.c_str(), &root) == 0;
  if (backend->configfs_) {
    if (auto made = backend->make_entry(); !made) return crypto::unexpected(made.error());
    // The VMPL this guest runs at (an SNP guest under an SVSM): configfs-tsm's privlevel_floor where the kernel has
    // one, 0 otherwise. Reports are asked at it (privlevel) and so are sealing keys.
    const std::string floor = backend->entry_ + "/privlevel_floor";
    if (::access(floor.c_str(), R_OK) == 0) {
      auto vmpl = read_number(floor);
      if (!vmpl) return crypto::unexpected(vmpl.error());
      if (*vmpl > 3) return fail(Errc::evidence, floor + ": VMPL " + std::to_string(*vmpl) + " is not 0-3");
      backend->vmpl_ = uint32_t(*vmpl);
    }
  }
  auto self = backend->attest(crypto::Digest64{});
  if (!self) return crypto::unexpected(self.error());
  backend->measurement_ = self->measurement;
  backend->platform_ = tsm_platform(self->provider).value();   // attest() checked it
  return std::unique_ptr<AttestationBackend>(std::move(backend));
}

Status TsmBackend::make_entry() const {
  // configfs creates the entry's attribute files on mkdir; an entry left by this process is reused.
  if (::mkdir(entry_.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(Errc::unsupported, "cannot create configfs-tsm report " + entry_ + ": " + std::strerror(errno) +
                                       " (is this a TDX or SEV-SNP guest with configfs mounted?)");
  }
  return {};
}

Result<Evidence> TsmBackend::attest(const crypto::Digest64& report_data) {
  if (!configfs_) {
    auto report = snp_report(sev_guest_, report_data, vmpl_);
    if (!report) return crypto::unexpected(report.error());
    return evidence_of(std::move(*report), "sev_guest", report_data, "the SNP_GET_REPORT reply");
  }
  if (auto made = make_entry(); !made) return crypto::unexpected(made.error());
  if (vmpl_ > 0)
    if (auto level = write_file(entry_ + "/privlevel", ByteView(std::to_string(vmpl_))); !level)
      return crypto::unexpected(level.error());
  auto before = read_generation(entry_);
  if (!before) return crypto::unexpected(before.error());
  if (auto written = write_file(entry_ + "/inblob", report_data); !written) return crypto::unexpected(written.error());
  auto after_write = read_generation(entry_);
  if (!after_write) return crypto::unexpected(after_write.error());
  if (*after_write != *before + 1) {
    return fail(Errc::io, entry_ + ": generation went from " + std::to_string(*before) + " to " +
                              std::to_string(*after_write) + " over one inblob write: another writer raced this report");
  }
  auto report = read_file(entry_ + "/outblob", kMaxReportBytes);
  if (!report) return crypto::unexpected(report.error());
  auto provider = read_file(entry_ + "/provider", 64);
  if (!provider) return crypto::unexpected(provider.error());
  auto after_read = read_generation(entry_);
  if (!after_read) return crypto::unexpected(after_read.error());
  if (*after_read != *after_write) {
    return fail(Errc::io, entry_ + ": generation changed from " + std::to_string(*after_write) + " to " +
                              std::to_string(*after_read) + " while reading outblob: another writer raced this report");
  }
  return evidence_of(std::move(*report), trimmed(*provider), report_data, entry_ + "/outblob");
}

Result<Evidence> TsmBackend::evidence_of(Bytes report, std::string provider, const crypto::Digest64& report_data,
                                         const std::string& source) {
  Evidence e;
  e.backend = Backend::tsm;
  e.provider = std::move(provider);
  auto platform = tsm_platform(e.provider);
  if (!platform) return crypto::unexpected(platform.error());
  auto fields = read_quote_fields(report);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->platform != *platform || fields->report_data != report_data) {
    return fail(Errc::evidence, source + " does not carry the report data just asked for");
  }
  e.measurement = fields->measurement;
  e.report_data = report_data;
  e.quote = std::move(report);
  return e;
}

Result<crypto::SecretKey> TsmBackend::sealing_key() {
  if (platform_ != attest::Platform::sev_snp)
    return fail(Errc::unsupported,
                "a TDX guest has no hardware sealing key: pin a key_broker in the enclave config to seal with a "
                "key it releases (src/tee/key_release.h)");
  auto derived = snp_derived_key(sev_guest_, vmpl_);
  if (!derived) return crypto::unexpected(derived.error());
  return crypto::derive_sealing_key(*derived, measurement_);
}

Status verify_tsm_evidence(const Evidence& evidence, const Policy& policy) {
  auto platform = tsm_platform(evidence.provider);
  if (!platform) return crypto::unexpected(platform.error());
  auto claims = verify_hardware_evidence(evidence, *platform, policy);
  if (!claims) return crypto::unexpected(claims.error());
  return {};
}

}  // namespace sg::tee
