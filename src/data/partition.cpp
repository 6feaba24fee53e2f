#include "data/partition.h"

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>

namespace sg::data {

std::vector<std::vector<size_t>> dirichlet_partition(const std::vector<std::string>& labels, int clients,
                                                     double alpha, uint64_t seed) {
  if (clients < 1) throw std::invalid_argument("partition: clients must be >= 1, got " + std::to_string(clients));
  if (!(alpha > 0)) throw std::invalid_argument("partition: alpha must be > 0, got " + std::to_string(alpha));
  std::mt19937_64 rng(seed);
  std::map<std::string, std::vector<size_t>> by_label;   // ordered: deterministic
  for (size_t i = 0; i < labels.size(); ++i) by_label[labels[i]].push_back(i);

  std::vector<std::vector<size_t>> shards(clients);
  std::gamma_distribution<double> gamma(alpha, 1.0);
  for (auto& [label, indices] : by_label) {
    std::shuffle(indices.begin(), indices.end(), rng);
    std::vector<double> weights(clients);
    double total = 0;
    for (auto& w : weights) total += (w = gamma(rng));   // Dirichlet = normalised Gammas
    size_t start = 0;
    double cumulative = 0;
    for (int c = 0; c < clients; ++c) {
      cumulative += weights[c] / total;
      const size_t end = c + 1 == clients ? indices.size() : std::min(indices.size(), size_t(cumulative * indices.size() + 0.5));
      shards[c].insert(shards[c].end(), indices.begin() + start, indices.begin() + std::max(start, end));
      start = std::max(start, end);
    }
  }
  for (auto& shard : shards) std::sort(shard.begin(), shard.end());
  return shards;
}

}  // namespace sg::data
