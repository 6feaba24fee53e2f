#include "net/message_parts.h"

namespace sg::net {

std::vector<std::pair<std::size_t, std::size_t>> message_parts(const std::vector<std::size_t>& sizes,
                                                               std::size_t max_message_bytes) {
  const std::size_t budget = max_message_bytes / 2;
  std::vector<std::pair<std::size_t, std::size_t>> parts{{0, 0}};
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (parts.back().second > parts.back().first && bytes + sizes[i] > budget) {
      parts.push_back({i, i});
      bytes = 0;
    }
    parts.back().second = i + 1;
    bytes += sizes[i];
  }
  return parts;
}

}  // namespace sg::net
