// The enclave's split trainers and their place in its trusted state (enclave side only).
//   sequential: one trainer shared by every client session (vanilla split learning).
//   parallel:   one trainer per client identity (a client that reconnects continues its copy), all starting from the same state; every `average_every` steps of
//               any of them, the enclave averages the copies' adapter tensors (equal weights) and gives each
//               copy the average — SplitFed's server-side FedAvg. Optimiser moments stay per copy.
// Every `seal_every` steps a snapshot goes into the trusted state (the host seals and persists it); a state
// that changed under the pool — unsealed after a restart — is restored before the next request. In parallel
// mode the snapshot is the latest averaged state, and copies made after a restart start from it.
// Every trainer's slice is checked against the job's model_digest as it loads (split/model_digest.h); the first
// one loads with the pool, so an enclave given other weights fails at start.
#pragma once

#include <map>
#include <memory>

#include "split/job.h"
#include "tee/enclave_runtime.h"
#include "train/slice_trainer.h"

namespace sg::split {

class TrainerPool {
 public:
  TrainerPool(SplitJob job, tee::TrustedState& state);

  train::SliceTrainer& for_client(const crypto::Bytes& identity);
  // Call after `trainer` took an optimiser step: averages (parallel) and snapshots when due.
  void after_step(train::SliceTrainer& trainer);

 private:
  std::unique_ptr<train::SliceTrainer> make_trainer() const;
  void restore_if_changed();
  void average();
  void snapshot(const train::SliceTrainer& trainer);

  SplitJob job_;
  tee::TrustedState& state_;
  std::unique_ptr<train::SliceTrainer> shared_;                                      // sequential
  std::map<crypto::Bytes, std::unique_ptr<train::SliceTrainer>> copies_;             // parallel, by identity
  std::unique_ptr<train::SliceTrainer> first_copy_;   // parallel: loaded (and checked) at start
  std::string restored_;    // parallel: the snapshot new copies start from
  uint64_t run_;            // tells this process's snapshots from a restored one's
  crypto::Bytes generation_;
};

}  // namespace sg::split
