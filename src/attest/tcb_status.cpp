#include "attest/tcb_status.h"

#include <array>
#include <utility>

namespace sg::attest {
namespace {

constexpr std::array<std::pair<TcbStatus, std::string_view>, 7> kNames{{
    {TcbStatus::up_to_date, "UpToDate"},
    {TcbStatus::sw_hardening_needed, "SWHardeningNeeded"},
    {TcbStatus::configuration_needed, "ConfigurationNeeded"},
    {TcbStatus::configuration_and_sw_hardening_needed, "ConfigurationAndSWHardeningNeeded"},
    {TcbStatus::out_of_date, "OutOfDate"},
    {TcbStatus::out_of_date_configuration_needed, "OutOfDateConfigurationNeeded"},
    {TcbStatus::revoked, "Revoked"},
}};

}  // namespace

std::string tcb_status_name(TcbStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return std::string(name);
  }
  return "Unknown";
}

std::optional<TcbStatus> parse_tcb_status(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

TcbStatus converge(TcbStatus platform, TcbStatus component) {
  if (component == TcbStatus::revoked) return TcbStatus::revoked;
  if (component < TcbStatus::out_of_date) return platform;
  switch (platform) {
    case TcbStatus::up_to_date:
    case TcbStatus::sw_hardening_needed:
      return TcbStatus::out_of_date;
    case TcbStatus::configuration_needed:
    case TcbStatus::configuration_and_sw_hardening_needed:
      return TcbStatus::out_of_date_configuration_needed;
    default:
      return platform;
  }
}

}  // namespace sg::attest
