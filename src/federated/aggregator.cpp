#include "federated/aggregator.h"

#include <torch/torch.h>

#include <stdexcept>

#include "federated/named_archive.h"
#include "tensor/archive_bytes.h"

namespace sg::federated {
namespace {

std::string describe(const at::Tensor& t) { return c10::str(t.sizes(), " ", t.scalar_type()); }

}  // namespace

RoundAggregator::RoundAggregator(RoundOptions options) : options_(options) {
  if (options_.rounds < 1) throw std::invalid_argument("federated: rounds must be >= 1");
  if (options_.clients_per_round < 1) throw std::invalid_argument("federated: clients_per_round must be >= 1");
  if (options_.quorum < 1 || options_.quorum > options_.clients_per_round)
    throw std::invalid_argument("federated: quorum must be in [1, clients_per_round = " +
                                std::to_string(options_.clients_per_round) + "]");
}

void RoundAggregator::check_like_reference(const NamedTensors& adapter) const {
  const NamedTensors& reference = submissions_.empty() ? global_ : submissions_.begin()->second.adapter;
  if (reference.empty()) return;   // the first adapter ever defines the structure
  if (adapter.size() != reference.size())
    throw std::invalid_argument("adapter has " + std::to_string(adapter.size()) + " tensors, expected " +
                                std::to_string(reference.size()));
  for (const auto& [name, tensor] : adapter) {
    auto it = reference.find(name);
    if (it == reference.end()) throw std::invalid_argument("adapter tensor '" + name + "' is not in the global adapter");
    if (tensor.sizes() != it->second.sizes() || tensor.scalar_type() != it->second.scalar_type())
      throw std::invalid_argument("adapter tensor '" + name + "' is " + describe(tensor) + ", expected " +
                                  describe(it->second));
  }
}

void RoundAggregator::submit(const std::string& client, int round, int64_t samples, NamedTensors adapter,
                             Clock::time_point now) {
  if (finished()) throw std::invalid_argument("the federation has finished all " + std::to_string(options_.rounds) + " rounds");
  if (round != round_)
    throw std::invalid_argument("submission for round " + std::to_string(round) + ", the open round is " +
                                std::to_string(round_));
  if (samples < 1) throw std::invalid_argument("submission with " + std::to_string(samples) + " samples");
  if (submissions_.count(client)) throw std::invalid_argument("client already submitted in round " + std::to_string(round));
  if (adapter.empty()) throw std::invalid_argument("submission without adapter tensors");
  check_like_reference(adapter);
  submissions_[client] = {samples, std::move(adapter)};
  if (!opened_at_) opened_at_ = now;
}

bool RoundAggregator::maybe_close(Clock::time_point now) {
  if (finished() || submissions_.empty()) return false;
  const int n = int(submissions_.size());
  const bool full = n >= options_.clients_per_round;
  const bool timed_out = opened_at_ && now - *opened_at_ >= options_.round_timeout && n >= options_.quorum;
  if (!full && !timed_out) return false;
  close();
  return true;
}

void RoundAggregator::close() {
  torch::NoGradGuard no_grad;
  int64_t total = 0;
  for (const auto& [client, s] : submissions_) total += s.samples;
  NamedTensors average;
  for (const auto& [client, s] : submissions_) {
    const double weight = double(s.samples) / double(total);
    for (const auto& [name, tensor] : s.adapter) {
      auto& sum = average[name];   // accumulated in double, stored in the adapter's dtype
      const auto term = weight * tensor.to(torch::kFloat64);
      sum = sum.defined() ? sum + term : term;
    }
  }
  global_.clear();
  for (auto& [name, sum] : average) global_[name] = sum.to(submissions_.begin()->second.adapter.at(name).scalar_type());
  last_contributors_.clear();
  for (const auto& [client, s] : submissions_) last_contributors_.insert(client);
  submissions_.clear();
  opened_at_.reset();
  ++round_;
}

const NamedTensors* RoundAggregator::global_after(int round) const {
  return round < round_ && !global_.empty() ? &global_ : nullptr;
}

namespace {
void write_text(torch::serialize::OutputArchive& archive, const std::string& key, const std::string& text) {
  archive.write(key, torch::from_blob(const_cast<char*>(text.data()), {int64_t(text.size())}, torch::kUInt8).clone());
}

std::string read_text(torch::serialize::InputArchive& archive, const std::string& key) {
  at::Tensor bytes;
  archive.read(key, bytes);
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), std::size_t(bytes.numel()));
}
}  // namespace

std::string RoundAggregator::snapshot() const {
  torch::serialize::OutputArchive archive;
  archive.write("round", torch::tensor(int64_t(round_)));
  write_named(archive, "global/", global_);
  int i = 0;
  for (const auto& [client, s] : submissions_) {
    const std::string prefix = "submission" + std::to_string(i++) + "/";
    write_text(archive, prefix + "client", client);
    archive.write(prefix + "samples", torch::tensor(s.samples));
    write_named(archive, prefix + "tensor/", s.adapter);
  }
  archive.write("submissions", torch::tensor(int64_t(submissions_.size())));
  int k = 0;   // who the last closed round averaged: a client that joins after a restart reads their number
  for (const auto& client : last_contributors_) write_text(archive, "last_contributor" + std::to_string(k++), client);
  archive.write("last_contributors", torch::tensor(int64_t(last_contributors_.size())));
  return tensor::archive_bytes(archive);
}

void RoundAggregator::restore(const std::string& snapshot) {
  torch::serialize::InputArchive archive;
  tensor::load_archive_bytes(archive, snapshot);
  at::Tensor round, count;
  archive.read("round", round);
  archive.read("submissions", count);
  global_ = read_named(archive, "global/");
  submissions_.clear();
  for (int64_t i = 0; i < count.item<int64_t>(); ++i) {
    const std::string prefix = "submission" + std::to_string(i) + "/";
    at::Tensor samples;
    archive.read(prefix + "samples", samples);
    submissions_[read_text(archive, prefix + "client")] = {samples.item<int64_t>(), read_named(archive, prefix + "tensor/")};
  }
  last_contributors_.clear();
  at::Tensor last;
  archive.read("last_contributors", last);
  for (int64_t i = 0; i < last.item<int64_t>(); ++i)
    last_contributors_.insert(read_text(archive, "last_contributor" + std::to_string(i)));
  round_ = int(round.item<int64_t>());
  // The open round's timer restarts: the enclave's clock does not survive a restart.
  opened_at_ = submissions_.empty() ? std::nullopt : std::optional<Clock::time_point>(Clock::now());
}

}  // namespace sg::federated
