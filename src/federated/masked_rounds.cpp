#include "federated/masked_rounds.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "federated/named_archive.h"
#include "tensor/archive_bytes.h"
#include "federated/secure_aggregation.h"

namespace sg::federated {
namespace {

template <class Pairs>
auto find_client(Pairs& pairs, const std::string& client) {
  return std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == client; });
}

constexpr int64_t kAnnouncementBytes = 32 + 32 + 64;   // identity, mask key, signature

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

bool MaskedRounds::join(const std::string& client, int round, const MaskKeyAnnouncement& announcement,
                        Clock::time_point now) {
  check_round(round);
  maybe_close(now);
  if (fixed_) return false;
  if (find_client(joined_, client) != joined_.end()) throw std::invalid_argument("client already joined this round");
  joined_.emplace_back(client, announcement);
  if (!phase_started_) phase_started_ = now;
  return true;
}

std::optional<std::vector<MaskKeyAnnouncement>> MaskedRounds::participants(int round, Clock::time_point now) {
  check_round(round);
  maybe_close(now);   // fixes the set when due
  if (!fixed_ || round != round_) return std::nullopt;
  std::vector<MaskKeyAnnouncement> set;
  for (const auto& [client, announcement] : joined_) set.push_back(announcement);
  std::sort(set.begin(), set.end(), [](const auto& a, const auto& b) { return a.mask_key < b.mask_key; });
  return set;
}

void MaskedRounds::submit(const std::string& client, int round, int64_t samples, std::vector<uint32_t> masked,
                          std::vector<TensorSlot> layout, Clock::time_point now) {
  check_round(round);
  if (!fixed_) throw std::invalid_argument("masked submission before the participant set is fixed");
  if (find_client(joined_, client) == joined_.end()) throw std::invalid_argument("client is not a participant of this round");
  if (find_client(submitted_, client) != submitted_.end()) throw std::invalid_argument("client already submitted this round");
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
    if (!timed_out) return false;
    // A participant died after the set was fixed: the sum stays masked, and nobody masks again this round.
    last_contributors_ = 0;
    ++round_;
    start_round();
    return true;
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
  joined_.clear();
  submitted_.clear();
  fixed_ = false;
  phase_started_.reset();
}

const NamedTensors* MaskedRounds::global_after(int round) const { return round < round_ ? &global_ : nullptr; }

// The snapshot keeps the open round too (announcements, whether the set is fixed, the masked submissions and
// their layout): a client enclave masks once per round, so a restarted server must finish the round it had.
std::string MaskedRounds::snapshot() const {
  torch::serialize::OutputArchive archive;
  archive.write("round", torch::tensor(int64_t(round_)));
  archive.write("contributors", torch::tensor(int64_t(last_contributors_)));
  write_named(archive, "global/", global_);
  archive.write("open/fixed", torch::tensor(int64_t(fixed_)));
  auto announcements = torch::empty({int64_t(joined_.size()), kAnnouncementBytes}, torch::kUInt8);
  for (std::size_t i = 0; i < joined_.size(); ++i) {
    const auto& a = joined_[i].second;
    auto* row = announcements[int64_t(i)].data_ptr<uint8_t>();
    std::copy(a.identity.begin(), a.identity.end(), row);
    std::copy(a.mask_key.begin(), a.mask_key.end(), row + 32);
    std::copy(a.signature.begin(), a.signature.end(), row + 64);
  }
  archive.write("open/joined", announcements);
  for (std::size_t i = 0; i < submitted_.size(); ++i) {
    const auto& [client, m] = submitted_[i];
    const auto at = find_client(joined_, client) - joined_.begin();
    archive.write("open/submitted/" + std::to_string(i) + "/who", torch::tensor({int64_t(at), m.samples}));
    archive.write("open/submitted/" + std::to_string(i) + "/words",
                  torch::from_blob(const_cast<uint32_t*>(m.words.data()), {int64_t(m.words.size())}, torch::kInt32).clone());
  }
  nlohmann::json layout = nlohmann::json::array();
  for (const auto& slot : layout_) layout.push_back({slot.name, slot.shape});
  const std::string text = layout.dump();
  archive.write("open/layout", torch::from_blob(const_cast<char*>(text.data()), {int64_t(text.size())}, torch::kUInt8).clone());
  return tensor::archive_bytes(archive);
}

void MaskedRounds::restore(const std::string& snapshot) {
  torch::serialize::InputArchive archive;
  tensor::load_archive_bytes(archive, snapshot);
  at::Tensor round, contributors, fixed, joined, layout;
  archive.read("round", round);
  archive.read("contributors", contributors);
  global_ = read_named(archive, "global/");
  round_ = int(round.item<int64_t>());
  last_contributors_ = int(contributors.item<int64_t>());
  start_round();
  archive.read("open/fixed", fixed);
  archive.read("open/joined", joined);
  archive.read("open/layout", layout);
  for (int64_t i = 0; i < joined.size(0); ++i) {
    const auto* row = joined[i].data_ptr<uint8_t>();
    MaskKeyAnnouncement a;
    std::copy(row, row + 32, a.identity.begin());
    std::copy(row + 32, row + 64, a.mask_key.begin());
    std::copy(row + 64, row + 128, a.signature.begin());
    joined_.emplace_back(crypto::to_hex(a.identity), a);
  }
  for (int64_t i = 0;; ++i) {
    const std::string key = "open/submitted/" + std::to_string(i);
    at::Tensor who, words;
    if (!archive.try_read(key + "/who", who) || !archive.try_read(key + "/words", words)) break;
    Masked m{who[1].item<int64_t>(), std::vector<uint32_t>(std::size_t(words.numel()))};
    std::memcpy(m.words.data(), words.data_ptr<int32_t>(), m.words.size() * sizeof(uint32_t));
    submitted_.emplace_back(joined_.at(std::size_t(who[0].item<int64_t>())).first, std::move(m));
  }
  const auto layout_json = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(layout.data_ptr<uint8_t>()), std::size_t(layout.numel())));
  for (const auto& slot : layout_json) layout_.push_back({slot.at(0).get<std::string>(), slot.at(1).get<std::vector<int64_t>>()});
  fixed_ = fixed.item<int64_t>() != 0;
  if (!joined_.empty()) phase_started_ = Clock::now();   // the timeout starts over with the restarted enclave
}

}  // namespace sg::federated
