// Attention split by keys: two partial attentions merged by their log-sum-exp equal one attention over all keys
// (how a layer attends over a prefix held by a client enclave, federated/remote_adapter.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "model/layers.h"

namespace sg::model {
namespace {

TEST(PartialAttention, MergedPartsEqualAttentionOverTheUnionWithGqaAndAFullyMaskedRow) {
  torch::manual_seed(0);
  const int64_t B = 2, H = 4, G = 2, T = 5, P = 3, E = 8;   // 4 query heads share 2 key/value heads
  const auto q = torch::randn({B, H, T, E}), prefix_k = torch::randn({1, G, P, E}), prefix_v = torch::randn({1, G, P, E});
  const auto own_k = torch::randn({B, G, T, E}), own_v = torch::randn({B, G, T, E});
  // Causal over the own keys; in sequence 1 every own key of query 0 is masked (padding), so only the prefix
  // is visible to it.
  const float lowest = std::numeric_limits<float>::lowest();
  auto own_bias = torch::triu(torch::full({T, T}, lowest), 1).expand({B, 1, T, T}).clone();
  own_bias[1][0][0].fill_(lowest);

  const auto merged = merge_attention(attend_partial(q, own_k, own_v, own_bias), attend_partial(q, prefix_k, prefix_v, {}));
  const auto all_k = torch::cat({prefix_k.expand({B, G, P, E}), own_k}, 2);
  const auto all_v = torch::cat({prefix_v.expand({B, G, P, E}), own_v}, 2);
  const auto all_bias = torch::cat({torch::zeros({B, 1, T, P}), own_bias}, 3);
  const auto reference = attend(q, all_k, all_v, all_bias);
  ASSERT_EQ(merged.sizes(), reference.sizes());
  EXPECT_TRUE(torch::isfinite(merged).all().item<bool>());
  EXPECT_LT((merged - reference).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace sg::model
