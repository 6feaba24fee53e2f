#include "federated/local_steps.h"

#include <torch/torch.h>

#include "federated/client_protocol.h"
#include "rpc/call.h"
#include "model/transformer.h"
#include "train/loss.h"
#include "train/step_driver.h"

namespace sg::federated {

train::TrainResult train_local_steps(const model::Transformer& model, RemoteAdapter& adapter, const train::EpochBatches& batches,
                                     const train::TrainOptions& options, StepWindow window) {
  constexpr const char* kPeer = "client enclave";
  train::DrivenRun run;
  run.accumulation = adapter.accumulation();
  run.skip_steps = window.skip_steps;
  run.stop_after = window.stop_after;
  run.begin = [&](int total_steps) { rpc::call<ops::Begin>(adapter.transport(), kPeer, {total_steps}); };
  run.micro_step = [&](const data::Batch& batch, train::BatchPosition at) {
    rpc::call<ops::Micro>(adapter.transport(), kPeer, {at.epoch, at.index});
    auto ctx = adapter.context(batch.input_ids, batch.attention_mask);
    auto loss = train::causal_lm_loss_at_labels(model.hidden_states(batch.input_ids, ctx), batch.labels, model) /
                double(run.accumulation);
    loss.backward();   // each adapted group's gradient crosses to the enclave
    const auto r = rpc::call<ops::Step>(adapter.transport(), kPeer, {loss.item<double>()});
    return train::RemoteMicroStep{loss.item<double>(), r.stepped, r.step, r.lr};
  };
  return train::drive_run(batches, options, run);
}

}  // namespace sg::federated
