// Non-IID client shards: for every label, the examples are split across N clients in proportions drawn from
// Dirichlet(alpha) (small alpha = very skewed, large alpha = near IID), the standard federated benchmark recipe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sg::data {

// `labels[i]` is example i's label (its output for generation tasks). Returns the example indices of each
// client, deterministic for a seed. Throws std::invalid_argument for clients < 1 or alpha <= 0.
std::vector<std::vector<size_t>> dirichlet_partition(const std::vector<std::string>& labels, int clients,
                                                     double alpha, uint64_t seed);

}  // namespace sg::data
