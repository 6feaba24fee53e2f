#include "federated/masked_rounds.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "crypto/bytes.h"
#include "federated/named_archive.h"
#include "federated/secagg_recovery.h"
#include "federated/secure_aggregation.h"
#include "tensor/archive_bytes.h"

namespace sg::federated {
namespace {

using nlohmann::json;

constexpr const char* kPhaseNames[] = {"join", "share", "submit", "confirm", "reveal"};

int64_t numel(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1), std::multiplies<>());
}

bool same_layout(const std::vector<TensorSlot>& a, const std::vector<TensorSlot>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const TensorSlot& x, const TensorSlot& y) {
           return x.name == y.name && x.shape == y.shape;
         });
}

// Whether `ids` names exactly `expected` (sorted), each once.
bool covers_exactly(std::vector<crypto::VerifyKey> ids, const std::vector<crypto::VerifyKey>& expected) {
  std::sort(ids.begin(), ids.end());
  return ids == expected;
}

}  // namespace

MaskedRounds::MaskedRounds(RoundOptions options, int min_participants)
    : options_(options), min_participants_(min_participants) {
  RoundAggregator validate(options_);   // the same option checks
  if (min_participants_ < 2 || options_.quorum < min_participants_)
    throw std::invalid_argument("secure aggregation: min_participants (" + std::to_string(min_participants_) +
                                ") must be at least 2 and at most the quorum (" + std::to_string(options_.quorum) + ")");
}

void MaskedRounds::check_round(int round) const {
  if (finished()) throw std::invalid_argument("the federation has finished all " + std::to_string(options_.rounds) + " rounds");
  if (round != round_)
    throw std::invalid_argument("request for round " + std::to_string(round) + ", the open round is " + std::to_string(round_));
}

bool MaskedRounds::acted(const Participant& p, Phase phase) {
  switch (phase) {
    case Phase::join: return true;   // every participant has joined
    case Phase::share: return p.shared.has_value();
    case Phase::submit: return p.masked.has_value();
    case Phase::confirm: return p.confirmed.has_value();
    case Phase::reveal: return p.revealed.has_value();
  }
  return false;
}

MaskedRounds::Phase MaskedRounds::previous(Phase phase) { return phase == Phase::join ? phase : Phase(int(phase) - 1); }

int MaskedRounds::expected_in_phase() const {
  return int(std::count_if(participants_.begin(), participants_.end(), [&](const auto& p) { return acted(p, previous(phase_)); }));
}

int MaskedRounds::acted_in_phase() const {
  return int(std::count_if(participants_.begin(), participants_.end(), [&](const auto& p) { return acted(p, phase_); }));
}

bool MaskedRounds::join(const crypto::VerifyKey& client, int round, const MaskKeyAnnouncement& announcement,
                        Clock::time_point now) {
  check_round(round);
  if (maybe_close(now) || !in_phase(Phase::join)) return false;
  if (announcement.identity != client) throw std::invalid_argument("join: the announcement is another client's");
  if (announcement.min_participants > options_.clients_per_round)
    throw std::invalid_argument("join: this client masks only among " + std::to_string(announcement.min_participants) +
                                ", and a round here has at most " + std::to_string(options_.clients_per_round));
  if (std::any_of(participants_.begin(), participants_.end(), [&](const auto& p) { return p.keys.identity == client; }))
    throw std::invalid_argument("client already joined this round");
  participants_.push_back({announcement});
  if (!phase_started_) phase_started_ = now;
  return true;
}

MaskedRounds::Participant* MaskedRounds::acting(const crypto::VerifyKey& client, int round, Phase phase,
                                                Clock::time_point now) {
  check_round(round);
  if (maybe_close(now) || phase_ > phase) return nullptr;   // the round or the phase ended without this client
  const auto it = std::find_if(participants_.begin(), participants_.end(), [&](const auto& p) { return p.keys.identity == client; });
  const std::string what = kPhaseNames[int(phase)];
  if (phase_ < phase || it == participants_.end() || !acted(*it, previous(phase)))
    throw std::invalid_argument(what + ": this client is not in the round's set for it (or the set is not fixed yet)");
  if (acted(*it, phase)) throw std::invalid_argument(what + ": this client already did so this round");
  return &*it;
}

bool MaskedRounds::share(const crypto::VerifyKey& client, int round, ShareMessage message, Clock::time_point now) {
  auto* p = acting(client, round, Phase::share, now);
  if (!p) return false;
  std::vector<crypto::VerifyKey> to, everyone;
  for (const auto& s : message.shares) to.push_back(s.to);
  for (const auto& q : participants_) everyone.push_back(q.keys.identity);
  if (!covers_exactly(to, everyone))
    throw std::invalid_argument("share: the shares must go to every participant of the set, once each");
  p->shared = std::move(message);
  maybe_close(now);
  return true;
}

bool MaskedRounds::submit(const crypto::VerifyKey& client, int round, int64_t samples, std::vector<uint32_t> masked,
                          std::vector<TensorSlot> layout, Clock::time_point now) {
  auto* p = acting(client, round, Phase::submit, now);
  if (!p) return false;
  if (samples < 1) throw std::invalid_argument("submission with " + std::to_string(samples) + " samples");
  int64_t total = 0;
  for (const auto& slot : layout) total += numel(slot.shape);
  if (layout.empty() || total != int64_t(masked.size()))
    throw std::invalid_argument("masked update of " + std::to_string(masked.size()) + " words, its layout holds " +
                                std::to_string(total));
  const bool first = std::none_of(participants_.begin(), participants_.end(), [](const auto& q) { return q.masked.has_value(); });
  if (!first && !same_layout(layout, layout_))
    throw std::invalid_argument("masked update's layout differs from the other participants'");
  if (first) layout_ = std::move(layout);
  p->samples = samples;
  p->masked = std::move(masked);
  maybe_close(now);
  return true;
}

bool MaskedRounds::confirm(const crypto::VerifyKey& client, int round, const crypto::Signature& signature,
                           Clock::time_point now) {
  auto* p = acting(client, round, Phase::confirm, now);
  if (!p) return false;
  if (!crypto::verify_signature(client, survivors_message(survivor_ids(), round, set_digest(fixed_set(), round)), signature))
    throw std::invalid_argument("confirm: the signature is not this client's over the round's survivor set");
  p->confirmed = signature;
  maybe_close(now);
  return true;
}

bool MaskedRounds::reveal(const crypto::VerifyKey& client, int round, std::vector<RevealedShare> shares,
                          Clock::time_point now) {
  auto* p = acting(client, round, Phase::reveal, now);
  if (!p) return false;
  std::vector<crypto::VerifyKey> of, sharers;
  for (const auto& s : shares) {
    if (s.share.size() != kSecretShareBytes) throw std::invalid_argument("reveal: a share is not 32 bytes");
    of.push_back(s.of);
  }
  for (const auto& q : participants_)
    if (q.shared) sharers.push_back(q.keys.identity);
  if (!covers_exactly(of, sharers))
    throw std::invalid_argument("reveal: one share for every participant that shared, once each");
  p->revealed = std::move(shares);
  maybe_close(now);
  return true;
}

std::vector<MaskKeyAnnouncement> MaskedRounds::fixed_set() const {
  std::vector<MaskKeyAnnouncement> set;
  for (const auto& p : participants_) set.push_back(p.keys);
  return set;
}

std::optional<std::vector<MaskKeyAnnouncement>> MaskedRounds::participants(int round, Clock::time_point now) {
  check_round(round);
  maybe_close(now);
  if (round != round_ || in_phase(Phase::join)) return std::nullopt;
  return fixed_set();
}

std::optional<std::vector<InboxEntry>> MaskedRounds::inbox(const crypto::VerifyKey& client, int round, Clock::time_point now) {
  check_round(round);
  maybe_close(now);
  if (round != round_ || phase_ < Phase::submit) return std::nullopt;
  std::vector<InboxEntry> entries;
  for (const auto& p : participants_) {
    if (!p.shared) continue;
    for (const auto& s : p.shared->shares)
      if (s.to == client) entries.push_back({p.keys.identity, s.ciphertext});
  }
  return entries;
}

std::vector<crypto::VerifyKey> MaskedRounds::survivor_ids() const {
  std::vector<crypto::VerifyKey> ids;   // participants_ is sorted by identity once U1 is fixed
  for (const auto& p : participants_)
    if (p.masked) ids.push_back(p.keys.identity);
  return ids;
}

std::optional<std::vector<crypto::VerifyKey>> MaskedRounds::survivors(int round, Clock::time_point now) {
  check_round(round);
  maybe_close(now);
  if (round != round_ || phase_ < Phase::confirm) return std::nullopt;
  return survivor_ids();
}

std::optional<std::vector<Confirmation>> MaskedRounds::confirmations(int round, Clock::time_point now) {
  check_round(round);
  maybe_close(now);
  if (round != round_ || phase_ < Phase::reveal) return std::nullopt;
  std::vector<Confirmation> out;
  for (const auto& p : participants_)
    if (p.confirmed) out.push_back({p.keys.identity, *p.confirmed});
  return out;
}

bool MaskedRounds::maybe_close(Clock::time_point now) {
  const int round = round_;
  while (!finished() && round_ == round && phase_started_) {
    const bool timed_out = now - *phase_started_ >= options_.round_timeout;
    if (in_phase(Phase::join)) {
      int n = int(participants_.size());
      if (n < options_.clients_per_round && !(timed_out && n >= options_.quorum)) break;
      // A member that masks only among more than the set holds would refuse it, and every other member with it:
      // it is left out (its own enclave then finds itself missing and refuses), until the rest agree.
      for (;;) {
        const auto too_demanding = std::remove_if(participants_.begin(), participants_.end(),
                                                  [&](const auto& p) { return p.keys.min_participants > n; });
        if (too_demanding == participants_.end()) break;
        participants_.erase(too_demanding, participants_.end());
        n = int(participants_.size());
      }
      if (n < options_.quorum) break;   // the join phase goes on
      std::sort(participants_.begin(), participants_.end(),
                [](const auto& a, const auto& b) { return a.keys.identity < b.keys.identity; });
      threshold_ = std::max(recovery_threshold(n, min_participants_), set_threshold(fixed_set()));
      next_phase(now);
      continue;
    }
    const int acted = acted_in_phase(), expected = expected_in_phase();
    if (acted < expected && !timed_out) break;
    if (acted < threshold_) {
      last_failure_ = std::string("the ") + kPhaseNames[int(phase_)] + " phase ended with " + std::to_string(acted) +
                      " participants, fewer than the threshold of " + std::to_string(threshold_);
      close(false);
      break;
    }
    if (in_phase(Phase::reveal)) {
      aggregate();
      break;
    }
    next_phase(now);
  }
  return round_ != round;
}

void MaskedRounds::next_phase(Clock::time_point now) {
  phase_ = Phase(int(phase_) + 1);
  phase_started_ = now;
}

void MaskedRounds::aggregate() {
  RoundRecovery recovery;
  recovery.round = round_;
  std::vector<std::vector<uint32_t>> words;
  int64_t samples = 0;
  for (const auto& p : participants_) {
    recovery.set.push_back(p.keys);
    if (p.shared) recovery.commitments[p.keys.identity] = p.shared->seed_commitment;
    if (p.masked) {
      words.push_back(*p.masked);
      samples += p.samples;
    }
    if (p.revealed) recovery.reveals.emplace_back(p.keys.identity, *p.revealed);
  }
  recovery.survivors = survivor_ids();
  try {
    recovery.masked_sum = sum_words(words);
    const auto average = decode_average(recover_sum(recovery), double(samples));
    global_.clear();
    std::size_t offset = 0;
    for (const auto& slot : layout_) {
      const auto n = numel(slot.shape);
      global_[slot.name] = torch::from_blob(const_cast<float*>(average.data() + offset), {n}, torch::kFloat32)
                               .clone()
                               .reshape(slot.shape);
      offset += std::size_t(n);
    }
  } catch (const std::exception& e) {
    last_failure_ = e.what();
    close(false);
    return;
  }
  last_contributors_ = int(recovery.survivors.size());
  close(true);
}

void MaskedRounds::close(bool with_aggregate) {
  if (!with_aggregate) last_contributors_ = 0;
  else last_failure_.clear();
  ++round_;
  participants_.clear();
  layout_.clear();
  phase_ = Phase::join;
  threshold_ = 0;
  phase_started_.reset();
}

const NamedTensors* MaskedRounds::global_after(int round) const { return round < round_ ? &global_ : nullptr; }

std::string MaskedRounds::snapshot() const {
  torch::serialize::OutputArchive archive;
  archive.write("round", torch::tensor(int64_t(round_)));
  archive.write("contributors", torch::tensor(int64_t(last_contributors_)));
  write_named(archive, "global/", global_);
  json open = {{"phase", int(phase_)}, {"threshold", threshold_}, {"participants", json::array()}, {"layout", json::array()}};
  for (std::size_t i = 0; i < participants_.size(); ++i) {
    const auto& p = participants_[i];
    json entry = {{"keys", p.keys}, {"samples", p.samples}};
    if (p.shared) entry["shared"] = *p.shared;
    if (p.confirmed) entry["confirmed"] = crypto::to_hex(*p.confirmed);
    if (p.revealed) entry["revealed"] = *p.revealed;
    if (p.masked)
      archive.write("open/masked/" + std::to_string(i),
                    torch::from_blob(const_cast<uint32_t*>(p.masked->data()), {int64_t(p.masked->size())}, torch::kInt32).clone());
    open["participants"].push_back(std::move(entry));
  }
  for (const auto& slot : layout_) open["layout"].push_back({slot.name, slot.shape});
  const std::string text = open.dump();
  archive.write("open", torch::from_blob(const_cast<char*>(text.data()), {int64_t(text.size())}, torch::kUInt8).clone());
  return tensor::archive_bytes(archive);
}

void MaskedRounds::restore(const std::string& snapshot) {
  torch::serialize::InputArchive archive;
  tensor::load_archive_bytes(archive, snapshot);
  at::Tensor round, contributors, open_bytes;
  archive.read("round", round);
  archive.read("contributors", contributors);
  archive.read("open", open_bytes);
  global_ = read_named(archive, "global/");
  round_ = int(round.item<int64_t>());
  last_contributors_ = int(contributors.item<int64_t>());
  const auto open = json::parse(std::string(reinterpret_cast<const char*>(open_bytes.data_ptr<uint8_t>()),
                                            std::size_t(open_bytes.numel())));
  const int phase = open.at("phase").get<int>();
  if (phase < int(Phase::join) || phase > int(Phase::reveal))
    throw std::invalid_argument("masked rounds snapshot: phase " + std::to_string(phase) + " is not 0..4");
  phase_ = Phase(phase);
  threshold_ = open.at("threshold").get<int>();
  participants_.clear();
  for (std::size_t i = 0; i < open.at("participants").size(); ++i) {
    const auto& entry = open["participants"][i];
    Participant p{entry.at("keys").get<MaskKeyAnnouncement>()};
    p.samples = entry.at("samples").get<int64_t>();
    if (entry.contains("shared")) p.shared = entry["shared"].get<ShareMessage>();
    if (entry.contains("confirmed")) {
      p.confirmed = crypto::from_hex_array<64>(entry["confirmed"].get<std::string>());
      if (!p.confirmed) throw std::invalid_argument("masked rounds snapshot: a confirmation is not 64 bytes in hex");
    }
    if (entry.contains("revealed")) p.revealed = entry["revealed"].get<std::vector<RevealedShare>>();
    at::Tensor words;
    if (archive.try_read("open/masked/" + std::to_string(i), words)) {
      p.masked.emplace(std::size_t(words.numel()));
      std::memcpy(p.masked->data(), words.data_ptr<int32_t>(), p.masked->size() * sizeof(uint32_t));
    }
    participants_.push_back(std::move(p));
  }
  layout_.clear();
  for (const auto& slot : open.at("layout")) layout_.push_back({slot.at(0).get<std::string>(), slot.at(1).get<std::vector<int64_t>>()});
  phase_started_.reset();
  if (!participants_.empty()) phase_started_ = Clock::now();   // the timeout starts over with the restarted enclave
}

}  // namespace sg::federated
