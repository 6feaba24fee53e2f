#include "peft/lora.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "model/transformer.h"

namespace sg::peft {

double LoraConfig::scaling() const { return use_rslora ? alpha / std::sqrt(double(r)) : alpha / r; }

LoraAdapter::LoraAdapter(at::Tensor a, at::Tensor b, double scaling, double dropout)
    : a_(std::move(a)), b_(std::move(b)), scaling_(scaling), dropout_(dropout) {}

// A bf16 model keeps fp32 LoRA weights (Lora::attach): the adapter computes in its own dtype, the sum is formed in
// it and rounded to the model's dtype once, as PEFT does. Every cast is a no-op when the dtypes agree.
at::Tensor LoraAdapter::apply(const at::Tensor& x, const at::Tensor& frozen_output) const {
  return (frozen_output.to(a_.scalar_type()) + own_dtype_delta(x)).to(frozen_output.scalar_type());
}

at::Tensor LoraAdapter::delta(const at::Tensor& x) const { return own_dtype_delta(x).to(x.scalar_type()); }

at::Tensor LoraAdapter::own_dtype_delta(const at::Tensor& x) const {
  auto input = dropout_ > 0 ? torch::dropout(x, dropout_, training_) : x;
  return torch::nn::functional::linear(torch::nn::functional::linear(input.to(a_.scalar_type()), a_), b_) * scaling_;
}

at::Tensor LoraAdapter::merged(const at::Tensor& frozen_weight) const {
  return (frozen_weight + torch::matmul(b_, a_).detach() * scaling_).to(frozen_weight.scalar_type());
}

bool matches_target(const std::string& module_name, const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (module_name == t) return true;
    if (module_name.size() > t.size() && module_name.compare(module_name.size() - t.size(), t.size(), t) == 0 &&
        module_name[module_name.size() - t.size() - 1] == '.')
      return true;
  }
  return false;
}

bool in_layers(int layer, const std::vector<int>& layers) {
  return layers.empty() || std::find(layers.begin(), layers.end(), layer) != layers.end();
}

Lora Lora::create(const std::vector<ModuleShape>& modules, const LoraConfig& config, const at::TensorOptions& options) {
  if (config.r <= 0) throw std::invalid_argument("lora: r must be positive, got " + std::to_string(config.r));
  Lora lora;
  lora.config_ = config;
  for (const auto& module : modules) {
    if (!matches_target(module.name, config.target_modules) || !in_layers(module.layer, config.layers_to_transform))
      continue;
    auto a = torch::empty({config.r, module.in}, options);
    torch::nn::init::kaiming_uniform_(a, std::sqrt(5.0));   // PEFT: nn.init.kaiming_uniform_(A, a=sqrt(5))
    auto b = torch::zeros({module.out, config.r}, options);
    a.requires_grad_(true);
    b.requires_grad_(true);
    lora.modules_[module.name] = std::make_shared<LoraAdapter>(a, b, config.scaling(), config.dropout);
  }
  if (lora.modules_.empty())
    throw std::invalid_argument("lora: target_modules matched no linear module of the loaded layers");
  return lora;
}

Lora Lora::attach(model::Transformer& model, const LoraConfig& config) {
  std::vector<ModuleShape> shapes;
  for (const auto& m : model.linear_modules()) {
    shapes.push_back({m.name, m.layer, m.linear->weight.size(1), m.linear->weight.size(0)});   // weight (out, in)
    if (m.linear->adapter && matches_target(m.name, config.target_modules) && in_layers(m.layer, config.layers_to_transform))
      throw std::invalid_argument("lora: module '" + m.name + "' already has an adapter");
  }
  auto cfg = config;
  cfg.fan_in_fan_out = model.config().family == model::Family::Gpt2;   // Conv1D stores (in, out)
  // The model's device, and its dtype unless that is a reduced precision: then the trained weights (the master
  // copy the optimiser updates) stay fp32, as under mixed-precision training in PEFT.
  auto options = model.linear_modules().front().linear->weight.options();
  if (at::isReducedFloatingType(options.dtype().toScalarType())) options = options.dtype(torch::kFloat32);
  Lora lora = create(shapes, cfg, options);
  for (const auto& [name, adapter] : lora.modules_) model.set_adapter(name, adapter);
  return lora;
}

std::vector<at::Tensor> Lora::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& [name, m] : modules_) {
    out.push_back(m->a());
    out.push_back(m->b());
  }
  return out;
}

void Lora::set_training(bool training) {
  for (auto& [name, m] : modules_) m->set_training(training);
}

std::vector<std::pair<std::string, at::Tensor>> Lora::named_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& [name, m] : modules_) {
    out.emplace_back(name + ".lora_A.weight", m->a());
    out.emplace_back(name + ".lora_B.weight", m->b());
  }
  return out;
}

void Lora::load(const std::map<std::string, at::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (auto& [key, target] : named_tensors()) {
    auto it = tensors.find(key);
    if (it == tensors.end()) throw std::invalid_argument("lora: adapter has no tensor '" + key + "'");
    if (it->second.sizes() != target.sizes())
      throw std::invalid_argument("lora: tensor '" + key + "' has shape " + c10::str(it->second.sizes()) +
                                  ", expected " + c10::str(target.sizes()));
    target.copy_(it->second);
  }
}

}  // namespace sg::peft
