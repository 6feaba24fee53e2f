// Writing one envelope's (or one reply's) frames to an Exchange stream, in as many messages as message_parts
// makes of them. For sg_net's own .cpp files: it includes the generated code.
#pragma once

#include <string>
#include <vector>

#include "net/message_parts.h"
#include "sliceguard.grpc.pb.h"

namespace sg::net {

// False when the stream refused a write (the peer went away).
template <class Stream>
bool write_in_parts(Stream& stream, std::vector<std::string> frames, std::size_t max_message_bytes) {
  std::vector<std::size_t> sizes;
  for (const auto& f : frames) sizes.push_back(f.size());
  const auto parts = message_parts(sizes, max_message_bytes);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    sliceguard::v1::Frames out;
    for (std::size_t i = parts[p].first; i < parts[p].second; ++i) out.add_frame(std::move(frames[i]));
    out.set_more(p + 1 < parts.size());
    if (!stream.Write(out)) return false;
  }
  return true;
}

}  // namespace sg::net
