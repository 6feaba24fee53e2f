// The errors of sg_crypto: one code per reason a frame, key, signature or sealed blob is refused, so
// callers and tests can tell a replay from a forgery without parsing messages.
#pragma once

#include <string>

#include "crypto/expected.h"

namespace sg::crypto {

enum class Errc {
  truncated,         // fewer bytes than the format needs
  oversize,          // a declared length above the configured limit
  wrong_version,     // a format version this build does not speak
  malformed,         // any other structural violation (reserved bits, trailing bytes, bad field)
  wrong_session,     // a frame of another session
  replayed,          // a counter at or below the last accepted one
  counter_gap,       // a counter that skips ahead: a frame is missing or reordered
  bad_tag,           // authentication failed: tampered, or the wrong key
  bad_signature,     // an Ed25519 signature that does not verify
  bad_key,           // an unusable public key (e.g. low-order X25519 point)
  exhausted,         // the 64-bit frame counter is used up; open a new session
  buffer_too_small,  // caller-supplied output buffer smaller than the payload
};

struct Error {
  Errc code;
  std::string message;
};

template <class T>
using Result = Expected<T, Error>;
using Status = Expected<void, Error>;

[[nodiscard]] inline Unexpected<Error> fail(Errc code, std::string message) {
  return {Error{code, std::move(message)}};
}

}  // namespace sg::crypto
