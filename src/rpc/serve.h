// The enclave side of the request convention: an OpTable maps each op name to its handler; serve() installs the
// table for every session of an EnclaveRuntime. A request's control is a JSON object with a string "op"; a reply
// is a control object plus tensors. Anything a handler throws (and a malformed control or an unknown op)
// becomes the sealed reply {"error": message}, which rpc::call turns back into an exception for the peer.
// Every reply's control is padded with spaces to a multiple of kReplyControlQuantum bytes, so replies of one op
// and shape have one length whatever their numbers say (a NaN loss, "stepped": false, an error text that fits).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/envelope.h"
#include "rpc/op.h"
#include "tee/envelope_service.h"

namespace sg::rpc {

inline constexpr std::size_t kReplyControlQuantum = 512;

crypto::Envelope reply(const nlohmann::json& control, std::vector<crypto::Tensor> tensors = {});

// Handles one request: who sent it, its control (an object with a string "op") and the whole envelope.
using Handler = std::function<crypto::Envelope(const tee::Caller& caller, const nlohmann::json& control,
                                               const crypto::Envelope& request)>;
// A typed handler's form: (const tee::Caller&, const Op::Request&, const crypto::Envelope&) -> crypto::Envelope.

class OpTable {
 public:
  // Registers `op`; registering one name twice is a programming error (std::logic_error).
  void on(const std::string& op, Handler handler);

  // Registers Op with a handler of its parsed request; a request missing a required field, or with a field of a wrong type, is refused
  // with the op and field named.
  template <class Op, class F>
  void on(F handler) {
    on(Op::kName, [handler = std::move(handler)](const tee::Caller& caller, const nlohmann::json& control,
                                                  const crypto::Envelope& request) {
      return handler(caller, parse_as<typename Op::Request>(control, std::string("'") + Op::kName + "' request"),
                     request);
    });
  }

  // The reply of op's handler; an op without one throws std::invalid_argument ("unknown op", plus `note`).
  crypto::Envelope dispatch(const tee::Caller& caller, const std::string& op, const nlohmann::json& control,
                            const crypto::Envelope& request) const;

  // Said after "unknown op" (for example why a family of ops is off in this job).
  void set_unknown_note(std::string note) { unknown_note_ = std::move(note); }

 private:
  std::map<std::string, Handler> handlers_;
  std::string unknown_note_;
};

void serve(tee::EnclaveRuntime& runtime, std::shared_ptr<const OpTable> table, tee::EnvelopeLimits limits = {});

}  // namespace sg::rpc
