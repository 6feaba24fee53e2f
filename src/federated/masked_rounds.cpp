#include "federated/masked_rounds.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "federated/named_archive.h"
#include "train/archive_bytes.h"
#include "federated/secure_aggregation.h"

namespace sg::federated {
namespace {

template <class Pairs>
auto find_client(Pairs& pairs, const std::string& client) {
  return std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == client; });
}

int64_t numel(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1), std::multiplies<>());
}

bool same_layout(const std::vector<TensorSlot>& a, const std::vector<TensorSlot>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const TensorSlot& x, const TensorSlot& y) {
           return x.name == y.name && x.shape == y.shape;
         });
}

}  // namespace

MaskedRounds::MaskedRounds(RoundOptions options) : options_(options) {
  RoundAggregator validate(options_);   // the same option checks
}

void MaskedRounds::check_round(int round) const {
  if (finished()) throw std::invalid_argument("the federation has finished all " + std::to_string(options_.rounds) + " rounds");
  if (round != round_)
    throw std::invalid_argument("request for round " + std::to_string(round) + ", the open round is " + std::to_string(round_));
}

bool MaskedRounds::join(const std::string& client, int round, const crypto::KxPublicKey& mask_key, Clock::time_point now) {
  check_round(round);
  maybe_close(now);
  if (fixed_) return false;
  if (find_client(joined_, client) != joined_.end()) throw std::invalid_argument("client already joined this attempt");
  joined_.emplace_back(client, mask_key);
  abandoned_.erase(client);
  if (!phase_started_) phase_started_ = now;
  return true;
}

std::optional<std::pair<int, std::vector<crypto::KxPublicKey>>> MaskedRounds::participants(int round, Clock::time_point now) {
  check_round(round);
  maybe_close(now);   // fixes the set when due
  if (!fixed_ || round != round_) return std::nullopt;
  std::vector<crypto::KxPublicKey> keys;
  for (const auto& [client, key] : joined_) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return std::make_pair(attempt_, keys);
}

void MaskedRounds::submit(const std::string& client, int round, int attempt, int64_t samples, std::vector<uint32_t> masked,
                          std::vector<TensorSlot> layout, Clock::time_point now) {
  check_round(round);
  if (!fixed_ || attempt != attempt_)
    throw std::invalid_argument("masked submission for attempt " + std::to_string(attempt) + ", the open attempt is " +
                                std::to_string(attempt_) + (fixed_ ? "" : " (not fixed yet)"));
  if (find_client(joined_, client) == joined_.end()) throw std::invalid_argument("client is not a participant of this attempt");
  if (find_client(submitted_, client) != submitted_.end()) throw std::invalid_argument("client already submitted this attempt");
  if (samples < 1) throw std::invalid_argument("submission with " + std::to_string(samples) + " samples");
  int64_t total = 0;
  for (const auto& slot : layout) total += numel(slot.shape);
  if (layout.empty() || total != int64_t(masked.size()))
    throw std::invalid_argument("masked update of " + std::to_string(masked.size()) + " words, its layout holds " +
                                std::to_string(total));
  if (!submitted_.empty() && !same_layout(layout, layout_))
    throw std::invalid_argument("masked update's layout differs from the other participants'");
  if (submitted_.empty()) layout_ = std::move(layout);
  submitted_.emplace_back(client, Masked{samples, std::move(masked)});
  maybe_close(now);
}

void MaskedRounds::abandon_attempt() {
  for (const auto& [client, key] : joined_) abandoned_.insert(client);
  ++attempt_;
  joined_.clear();
  submitted_.clear();
  fixed_ = false;
  phase_started_.reset();
}

bool MaskedRounds::maybe_close(Clock::time_point now) {
  if (finished() || !phase_started_) return false;
  const bool timed_out = now - *phase_started_ >= options_.round_timeout;
  if (!fixed_) {
    const int n = int(joined_.size());
    if (n >= options_.clients_per_round || (timed_out && n >= options_.quorum)) {
      fixed_ = true;
      phase_started_ = now;
    }
    return false;
  }
  if (submitted_.size() < joined_.size()) {
    if (timed_out) abandon_attempt();   // a participant died after the set was fixed: the survivors rejoin
    return false;
  }
  std::vector<std::vector<uint32_t>> words;
  int64_t samples = 0;
  for (auto& [client, m] : submitted_) {
    samples += m.samples;
    words.push_back(std::move(m.words));
  }
  const auto average = unmask_average(words, double(samples));
  global_.clear();
  std::size_t offset = 0;
  for (const auto& slot : layout_) {
    const auto n = numel(slot.shape);
    global_[slot.name] = torch::from_blob(const_cast<float*>(average.data() + offset), {n}, torch::kFloat32)
                             .clone()
                             .reshape(slot.shape);
    offset += std::size_t(n);
  }
  last_contributors_ = int(submitted_.size());
  ++round_;
  start_round();
  return true;
}

void MaskedRounds::start_round() {
  attempt_ = 0;
  joined_.clear();
  submitted_.clear();
  abandoned_.clear();
  fixed_ = false;
  phase_started_.reset();
}

bool MaskedRounds::must_rejoin(const std::string& client, int round) const {
  return round == round_ && abandoned_.count(client) > 0;
}

const NamedTensors* MaskedRounds::global_after(int round) const {
  return round < round_ && !global_.empty() ? &global_ : nullptr;
}

std::string MaskedRounds::snapshot() const {
  torch::serialize::OutputArchive archive;
  archive.write("round", torch::tensor(int64_t(round_)));
  archive.write("contributors", torch::tensor(int64_t(last_contributors_)));
  write_named(archive, "global/", global_);
  return train::archive_bytes(archive);
}

void MaskedRounds::restore(const std::string& snapshot) {
  torch::serialize::InputArchive archive;
  train::load_archive_bytes(archive, snapshot);
  at::Tensor round, contributors;
  archive.read("round", round);
  archive.read("contributors", contributors);
  global_ = read_named(archive, "global/");
  round_ = int(round.item<int64_t>());
  last_contributors_ = int(contributors.item<int64_t>());
  start_round();
}

}  // namespace sg::federated
