#include "federated/adapter_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>

#include "federated/job.h"
#include "federated/protocol.h"
#include "split/wire.h"
#include "tee/envelope_service.h"
#include "train/micro_step.h"

namespace sg::federated {
namespace {

using nlohmann::json;
using split::from_wire;
using split::to_wire;

crypto::Envelope reply(const json& control, std::vector<crypto::Tensor> tensors = {}) {
  return {control.dump(), std::move(tensors)};
}

class AdapterService {
 public:
  explicit AdapterService(ClientJob job) : job_(std::move(job)) {}

  crypto::Envelope handle(const crypto::Envelope& request) {
    const auto control = json::parse(request.control, nullptr, /*allow_exceptions=*/false);
    if (!control.is_object() || !control.contains("op") || !control["op"].is_string())
      throw std::invalid_argument("request control is not a JSON object with a string 'op'");
    const auto op = control["op"].get<std::string>();
    if (op == op::kInit) return init(control);
    if (!lora_) throw std::invalid_argument("'" + op + "' before init");
    if (op == op::kForward) return forward(request, control);
    if (op == op::kBackward) return backward(request, control);
    if (op == op::kMicro) {
      train::seed_batch(job_.seed, {control.at("epoch").get<int>(), control.at("index").get<std::size_t>()});
      return reply(json::object());
    }
    if (op == op::kBegin) {
      if (!optimizer_) {
        auto options = job_.optimizer;
        options.total_steps = control.at("total_steps").get<int>();
        optimizer_.emplace(lora_->parameters(), options);
        total_steps_ = options.total_steps;
      }
      return reply({{"total_steps", total_steps_}});
    }
    if (op == op::kStep) {
      if (!optimizer_) throw std::invalid_argument("step before begin");
      pending_.clear();
      const auto r = train::finish_micro_step(*optimizer_, control.at("loss").get<double>());
      return reply({{"stepped", r.stepped}, {"step", optimizer_->step()}, {"lr", r.lr}});
    }
    throw std::invalid_argument("unknown op '" + op + "'");
  }

 private:
  struct Call {
    at::Tensor x;                     // leaf: its gradient is the host's dx
    std::vector<at::Tensor> outputs;  // one per module, in the request's order
  };

  crypto::Envelope init(const json& control) {
    if (lora_) throw std::invalid_argument("init twice");
    std::vector<peft::ModuleShape> shapes;
    for (const auto& m : control.at("modules"))
      shapes.push_back({m.at("name").get<std::string>(), m.at("layer").get<int>(), m.at("in").get<int64_t>(),
                        m.at("out").get<int64_t>()});
    torch::manual_seed(job_.seed);   // the same draws as Lora::attach after `finetune --seed`
    lora_.emplace(peft::Lora::create(shapes, job_.lora, torch::TensorOptions().dtype(torch::kFloat32)));
    lora_->set_training(true);
    json adapted = json::array();
    int64_t parameters = 0;
    for (const auto& [name, m] : lora_->modules()) {
      adapted.push_back(name);
      parameters += m->a().numel() + m->b().numel();
    }
    spdlog::info("federated client: LoRA on {} modules, {} parameters held in the enclave", adapted.size(), parameters);
    return reply({{"adapted", adapted}, {"trainable_parameters", parameters},
                  {"accumulation", job_.optimizer.accumulation}});
  }

  const peft::LoraAdapter& module(const std::string& name) const {
    auto it = lora_->modules().find(name);
    if (it == lora_->modules().end()) throw std::invalid_argument("module '" + name + "' has no adapter here");
    return *it->second;
  }

  crypto::Envelope forward(const crypto::Envelope& request, const json& control) {
    const crypto::Tensor* wire = request.find("x");
    if (!wire) throw std::invalid_argument("forward without tensor 'x'");
    auto x = from_wire(request, "x", torch::kFloat32, int64_t(wire->meta.shape.size()));
    const bool training = control.at("train").get<bool>();
    if (training) x.requires_grad_(true);
    lora_->set_training(training);   // dropout only while training
    torch::AutoGradMode grad_mode(training);
    Call call{x, {}};
    std::vector<crypto::Tensor> out;
    for (const auto& name : control.at("modules")) {
      auto delta = module(name.get<std::string>()).delta(x);
      out.push_back(to_wire(name.get<std::string>(), delta));
      call.outputs.push_back(delta);
    }
    if (training) pending_[control.at("call").get<int64_t>()] = std::move(call);
    return reply(json::object(), std::move(out));
  }

  crypto::Envelope backward(const crypto::Envelope& request, const json& control) {
    auto it = pending_.find(control.at("call").get<int64_t>());
    if (it == pending_.end()) throw std::invalid_argument("backward for an unknown forward call");
    Call call = std::move(it->second);
    pending_.erase(it);
    std::vector<at::Tensor> outputs, grads;
    for (std::size_t i = 0; i < request.tensors.size(); ++i) {
      const auto& name = request.tensors[i].meta.name;
      const auto& names = control.at("modules");
      std::size_t k = 0;
      while (k < names.size() && names[k].get<std::string>() != name) ++k;
      if (k == names.size()) throw std::invalid_argument("gradient for module '" + name + "' not in this call");
      auto grad = from_wire(request, name, torch::kFloat32, call.outputs[k].dim());
      if (grad.sizes() != call.outputs[k].sizes())
        throw std::invalid_argument("gradient for '" + name + "' has shape " + c10::str(grad.sizes()));
      outputs.push_back(call.outputs[k]);
      grads.push_back(grad);
    }
    if (!outputs.empty()) torch::autograd::backward(outputs, grads);
    auto dx = call.x.grad().defined() ? call.x.grad() : torch::zeros_like(call.x);
    return reply(json::object(), {to_wire("dx", dx)});
  }

  ClientJob job_;
  std::optional<peft::Lora> lora_;
  std::optional<train::Optimizer> optimizer_;
  int total_steps_ = 0;
  std::map<int64_t, Call> pending_;   // forward calls awaiting their backward, this micro-step
};

}  // namespace

void install_client_adapter_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  auto job = ClientJob::parse(config.job, config.path);
  at::set_num_threads(job.threads);
  auto service = std::make_shared<AdapterService>(std::move(job));
  tee::serve_envelopes(runtime, [service](const crypto::SessionId&, crypto::Envelope request) -> tee::Result<crypto::Envelope> {
    try {
      return service->handle(request);
    } catch (const std::exception& e) {
      return reply({{"error", e.what()}});
    }
  });
}

}  // namespace sg::federated
