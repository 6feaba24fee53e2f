#include "federated/local_steps.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "federated/protocol.h"
#include "model/transformer.h"
#include "train/loss.h"
#include "train/step_driver.h"

namespace sg::federated {

train::TrainResult train_local_steps(const model::Transformer& model, RemoteAdapter& adapter, const train::EpochBatches& batches,
                                     const train::TrainOptions& options, StepWindow window) {
  using nlohmann::json;
  auto call = [&](const json& control) { return json::parse(adapter.call(control.dump())); };
  train::DrivenRun run;
  run.accumulation = adapter.accumulation();
  run.skip_steps = window.skip_steps;
  run.stop_after = window.stop_after;
  run.begin = [&](int total_steps) { call({{"op", op::kBegin}, {"total_steps", total_steps}}); };
  run.micro_step = [&](const data::Batch& batch, train::BatchPosition at) {
    call({{"op", op::kMicro}, {"epoch", at.epoch}, {"index", at.index}});
    auto ctx = adapter.context(batch.input_ids, batch.attention_mask);
    auto loss = train::causal_lm_loss_at_labels(model.hidden_states(batch.input_ids, ctx), batch.labels, model) /
                double(run.accumulation);
    loss.backward();   // each adapted group's gradient crosses to the enclave
    const auto r = call({{"op", op::kStep}, {"loss", loss.item<double>()}});
    return train::RemoteMicroStep{loss.item<double>(), r.at("stepped").get<bool>(), r.at("step").get<int>(),
                                  r.at("lr").get<double>()};
  };
  return train::drive_run(batches, options, run);
}

}  // namespace sg::federated
