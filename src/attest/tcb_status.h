// TCB statuses as Intel's PCS names them (TCB info, QE identity, TDX module identity levels), their names,
// and how a platform's status converges with its QE's and TDX module's (Intel QVL's rule).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sg::attest {

// From best to worst.
enum class TcbStatus {
  up_to_date,
  sw_hardening_needed,
  configuration_needed,
  configuration_and_sw_hardening_needed,
  out_of_date,
  out_of_date_configuration_needed,
  revoked,
};

[[nodiscard]] std::string tcb_status_name(TcbStatus status);   // "UpToDate", ...
[[nodiscard]] std::optional<TcbStatus> parse_tcb_status(std::string_view name);

// The platform's status given a component's (the QE's or the TDX module's): a revoked component revokes the
// quote; an out-of-date one makes an up-to-date (or SW hardening) platform OutOfDate and a platform that needs
// configuration OutOfDateConfigurationNeeded; otherwise the platform's status stands.
[[nodiscard]] TcbStatus converge(TcbStatus platform, TcbStatus component);

}  // namespace sg::attest
