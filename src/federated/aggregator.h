// The server enclave's round bookkeeping for federated training (docs/DESIGN.md §7 step 3): each round collects the adapters of
// the clients that trained in it, closes on quorum or timeout, and replaces the global adapter with their
// sample-weighted average (FedAvg). Pure state: the enclave service (aggregator_service.h) feeds it decrypted
// submissions and seals its snapshot after every change.
//
// A round opens with its first submission; it closes as soon as `clients_per_round` clients have submitted,
// or once `round_timeout` has passed since it opened and at least `quorum` have — so a client that dies
// mid-round delays its round by at most the timeout and never stalls it. Time is the enclave's monotonic clock
// (host-controlled in a real TEE: a host can only make rounds close earlier or later, not change their sums).
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace sg::federated {

using NamedTensors = std::map<std::string, at::Tensor>;
using Clock = std::chrono::steady_clock;

struct RoundOptions {
  int rounds = 1;
  int clients_per_round = 1;   // a round closes as soon as this many clients submitted
  int quorum = 1;              // ... or after the timeout with at least this many
  std::chrono::milliseconds round_timeout{60000};
};

// What the server enclave's service needs of a round scheme (plain FedAvg here, masked_rounds.h).
class Rounds {
 public:
  virtual ~Rounds() = default;
  virtual int open_round() const = 0;   // rounds closed so far; == rounds when finished
  virtual bool finished() const = 0;
  virtual const RoundOptions& options() const = 0;
  // Closes the open round when its rule is met; returns whether it closed.
  virtual bool maybe_close(Clock::time_point now) = 0;
  // The global adapter once `round` has closed (the latest one), else nullptr.
  virtual const NamedTensors* global_after(int round) const = 0;
  virtual int contributors() const = 0;   // clients averaged into the last closed round
  virtual std::string snapshot() const = 0;
  virtual void restore(const std::string& snapshot) = 0;
};

class RoundAggregator final : public Rounds {
 public:
  explicit RoundAggregator(RoundOptions options);

  int open_round() const override { return round_; }
  bool finished() const override { return round_ >= options_.rounds; }
  const RoundOptions& options() const override { return options_; }

  // Records `client`'s adapter for the open round. Throws std::invalid_argument (naming the problem) for a
  // round other than the open one, a second submission, samples < 1, or tensors whose names, shapes or dtype
  // differ from the round's first submission (or the global adapter).
  void submit(const std::string& client, int round, int64_t samples, NamedTensors adapter, Clock::time_point now);

  // Whether `client` has a submission in the open round.
  bool submitted(const std::string& client) const { return submissions_.count(client) != 0; }

  bool maybe_close(Clock::time_point now) override;
  const NamedTensors* global_after(int round) const override;
  int contributors() const override { return int(last_contributors_.size()); }
  // Clients whose adapters went into the last closed round's average.
  const std::set<std::string>& last_contributors() const { return last_contributors_; }

  // Serialised state (round, global adapter, the open round's submissions) for sealing; restore() continues
  // from it. Submissions keep their clients' names, so a client that resubmits after a restart is refused.
  std::string snapshot() const override;
  void restore(const std::string& snapshot) override;

 private:
  struct Submission {
    int64_t samples = 0;
    NamedTensors adapter;
  };
  void check_like_reference(const NamedTensors& adapter) const;
  void close();

  RoundOptions options_;
  int round_ = 0;
  NamedTensors global_;
  std::map<std::string, Submission> submissions_;   // the open round's
  std::optional<Clock::time_point> opened_at_;
  std::set<std::string> last_contributors_;
};

}  // namespace sg::federated
