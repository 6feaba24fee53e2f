#include "net/message_parts.h"

#include <gtest/gtest.h>

namespace sg::net {
namespace {

using Parts = std::vector<std::pair<std::size_t, std::size_t>>;

TEST(MessageParts, NothingToSendIsStillOneMessage) { EXPECT_EQ(message_parts({}, 400), (Parts{{0, 0}})); }

TEST(MessageParts, FramesWithinHalfTheLimitShareAMessage) {
  EXPECT_EQ(message_parts({100, 100}, 400), (Parts{{0, 2}}));
  EXPECT_EQ(message_parts({100, 100, 100}, 400), (Parts{{0, 2}, {2, 3}}));
}

TEST(MessageParts, AFrameLargerThanTheBudgetTravelsAlone) {
  EXPECT_EQ(message_parts({50, 500, 50}, 400), (Parts{{0, 1}, {1, 2}, {2, 3}}));
  EXPECT_EQ(message_parts({500}, 400), (Parts{{0, 1}}));
}

TEST(MessageParts, EveryFrameIsInExactlyOneRangeInOrder) {
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < 1000; ++i) sizes.push_back(1 + (i * 7919) % 300);
  const auto parts = message_parts(sizes, 1000);
  std::size_t next = 0;
  for (const auto& [begin, end] : parts) {
    EXPECT_EQ(begin, next);
    EXPECT_LT(begin, end);
    std::size_t bytes = 0;
    for (std::size_t i = begin; i < end; ++i) bytes += sizes[i];
    EXPECT_LE(bytes, 500u);
    next = end;
  }
  EXPECT_EQ(next, sizes.size());
}

}  // namespace
}  // namespace sg::net
