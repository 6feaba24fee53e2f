#include "tee/attestation_tsm.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tee/file_io.h"

namespace sg::tee {
namespace {

struct Layout {
  std::size_t min_size, measurement, report_data, debug_byte;
  uint8_t debug_mask;
};
// TDX quote v4: 48-byte header, then the TD report body (MRTD at +136, REPORTDATA at +520, TDATTRIBUTES at +120
// whose bit 0 is DEBUG). SNP report: POLICY at 0x08 (bit 19 = DEBUG allowed), REPORT_DATA at 0x50,
// MEASUREMENT at 0x90, 0x4A0 bytes in all.
constexpr Layout kTdx{48 + 584, 48 + 136, 48 + 520, 48 + 120, 0x01};
constexpr Layout kSnp{0x4A0, 0x90, 0x50, 0x08 + 2, 0x08};
constexpr std::size_t kMaxReportBytes = 64 * 1024;

Result<uint64_t> read_generation(const std::string& entry) {
  auto text = read_file(entry + "/generation", 64);
  if (!text) return crypto::unexpected(text.error());
  const std::string s(text->begin(), text->end());
  char* end = nullptr;
  const unsigned long long value = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || end == s.c_str() || (*end != '\0' && *end != '\n')) {
    return fail(Errc::io, entry + "/generation: not a number");
  }
  return uint64_t(value);
}

std::string trimmed(const Bytes& bytes) {
  std::string s(bytes.begin(), bytes.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

Result<TsmReportFields> parse_tsm_report(const std::string& provider, ByteView report) {
  const Layout* layout = provider == "tdx_guest" ? &kTdx : provider == "sev_guest" ? &kSnp : nullptr;
  if (!layout) return fail(Errc::evidence, "tsm provider '" + provider + "' is not tdx_guest or sev_guest");
  if (report.size < layout->min_size) {
    return fail(Errc::evidence, provider + " report of " + std::to_string(report.size) + " bytes is truncated");
  }
  TsmReportFields f;
  f.measurement = report.subview(layout->measurement, 48).to_bytes();
  std::copy(report.data + layout->report_data, report.data + layout->report_data + 64, f.report_data.begin());
  f.debug = (report.data[layout->debug_byte] & layout->debug_mask) != 0;
  return f;
}

Result<std::unique_ptr<AttestationBackend>> TsmBackend::create(const EnclaveConfig& config) {
  std::unique_ptr<TsmBackend> backend(new TsmBackend(config.tsm_report_root + "/sliceguard-" + std::to_string(::getpid())));
  auto self = backend->attest(crypto::Digest64{});
  if (!self) return crypto::unexpected(self.error());
  backend->measurement_ = self->measurement;
  return std::unique_ptr<AttestationBackend>(std::move(backend));
}

Result<Evidence> TsmBackend::attest(const crypto::Digest64& report_data) {
  // configfs creates the entry's attribute files on mkdir; an entry left by this process is reused.
  if (::mkdir(entry_.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(Errc::unsupported, "cannot create configfs-tsm report " + entry_ + ": " + std::strerror(errno) +
                                       " (is this a TDX or SEV-SNP guest with configfs mounted?)");
  }
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
  Evidence e;
  e.backend = Backend::tsm;
  e.provider = trimmed(*provider);
  auto fields = parse_tsm_report(e.provider, *report);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->report_data != report_data) {
    return fail(Errc::evidence, entry_ + "/outblob does not carry the report data just written");
  }
  e.measurement = fields->measurement;
  e.report_data = report_data;
  e.quote = std::move(*report);
  return e;
}

Result<crypto::SecretKey> TsmBackend::sealing_key() {
  return fail(Errc::unsupported,
              "the tsm backend has no sealing secret (configfs-tsm exposes none); sealing state needs a key broker, "
              "which this build does not have");
}

Status verify_tsm_evidence(const Evidence& evidence, const Policy& policy) {
  auto fields = parse_tsm_report(evidence.provider, evidence.quote);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->report_data != evidence.report_data || fields->measurement != evidence.measurement) {
    return fail(Errc::evidence, "tsm evidence fields disagree with its report");
  }
  if (fields->debug && !policy.allow_debug) {
    return fail(Errc::policy, evidence.provider + " guest allows debugging; allow_debug is false in " + policy.source);
  }
  return fail(Errc::unsupported, "tsm (" + evidence.provider +
                                     ") evidence cannot be verified: this build has no TDX/SNP quote verifier; "
                                     "refusing the report");
}

}  // namespace sg::tee
