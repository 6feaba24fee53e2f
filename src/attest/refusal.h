// The error of sg_attest: which check refused the evidence, and why, in one line. `check` is a stable name
// ("quote_signature", "pck_chain", "tcb_info_window", ...) that the CLI prints and tests match on; `message`
// names the field and the values that disagree.
#pragma once

#include <string>

#include "crypto/expected.h"

namespace sg::attest {

struct Refusal {
  std::string check;
  std::string message;
};

template <class T>
using Result = crypto::Expected<T, Refusal>;
using Status = crypto::Expected<void, Refusal>;

[[nodiscard]] inline crypto::Unexpected<Refusal> refuse(std::string check, std::string message) {
  return {Refusal{std::move(check), std::move(message)}};
}

}  // namespace sg::attest
