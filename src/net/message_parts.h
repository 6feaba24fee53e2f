// How an envelope's sealed frames (or a reply's) are spread over gRPC messages. A message may carry at most a
// side's message limit; frames that add up to more travel as consecutive Frames messages with `more` set on all
// but the last, so one envelope (a big model's activations: hundreds of MB) is never bounded by that limit.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace sg::net {

// The default limit of one gRPC message, both ways (gRPC's own default is 4 MB).
inline constexpr int kMaxGrpcMessageBytes = 256 << 20;

// Consecutive ranges [begin, end) of items with `sizes` whose frame bytes stay within half of `max_message_bytes`
// (the rest is room for protobuf's per-frame overhead); an item larger than that gets a range of its own. No items
// still make one (empty) range: every request gets a message and every reply is one.
std::vector<std::pair<std::size_t, std::size_t>> message_parts(const std::vector<std::size_t>& sizes,
                                                               std::size_t max_message_bytes);

}  // namespace sg::net
