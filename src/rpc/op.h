// An op of an enclave protocol, declared once: its name and its request and reply as structs with to_json /
// from_json (nlohmann's convention, found by argument-dependent lookup). The client builds a request with
// rpc::call<Op> (call.h); the enclave registers a handler for it in an rpc::OpTable (serve.h).
//
//   struct Begin {
//     static constexpr const char* kName = "begin";
//     struct Request { int total_steps = 0; };
//     struct Reply { int total_steps = 0; int steps_done = 0; };
//   };
//
// Tensors travel beside the control in the envelope (crypto/envelope.h); each op's comment names them.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace sg::rpc {

// Declare a struct's JSON form with NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE (every field required), or with
// ..._WITH_DEFAULT where every field is optional (replies that carry only what applies), or write from_json by
// hand where some are (ops::Submit). Unknown fields are ignored: a peer may add one without breaking the other.

// A request or reply without fields.
struct Empty {};
inline void to_json(nlohmann::json& j, const Empty&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, Empty&) {}

// `json` as T; a missing required field or a mistyped one throws std::invalid_argument naming `what` and the field.
template <class T>
T parse_as(const nlohmann::json& json, const std::string& what) {
  try {
    return json.get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(what + " is malformed: " + e.what());
  }
}

}  // namespace sg::rpc
