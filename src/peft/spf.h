// SPF — Sparsification Parameter Fine-tuning. A sparse set of structural units of the frozen weights is
// chosen by a score under a density budget, and trained as a dense delta over exactly those units:
//   attention head h : rows of head h in q (and of its kv head in k, v; gpt2: the head's rows of c_attn)
//   MLP neuron j     : row j of gate and up (gpt2: c_fc), column j of down (gpt2: mlp.c_proj)
// W = W0 + scatter(delta). The frozen W0 is never written, so every weight outside the units stays
// bit-identical to the base; only indices + delta are stored.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/layers.h"

namespace sg::model {
class Transformer;
}

namespace sg::peft {

enum class SpfScore { L1, Grad, Random };
SpfScore parse_spf_score(const std::string& name);   // "l1" | "grad" | "random"
std::string spf_score_name(SpfScore score);

struct SpfConfig {
  double density = 0.05;        // fraction of units selected in each layer, per kind (heads, neurons):
                                // floor(density * units), at least one
  SpfScore score = SpfScore::L1;
  bool heads = true;            // select attention heads
  bool neurons = true;          // select MLP neurons
  uint64_t seed = 0;            // for `random`
  std::vector<int> layers;      // layer indices to select units in (empty = every loaded layer)
};

// The delta on one module: rows (out dimension) or columns (in dimension) of the frozen weight.
class SpfAdapter : public model::LinearAdapter {
 public:
  enum class Axis { Rows, Columns };
  SpfAdapter(Axis axis, at::Tensor indices, at::Tensor delta);
  at::Tensor apply(const at::Tensor& x, const at::Tensor& frozen_output) const override;
  Axis axis() const { return axis_; }
  const at::Tensor& indices() const { return indices_; }   // int64 (n,)
  const at::Tensor& delta() const { return delta_; }       // rows: (n, in); columns: (out, n)
  // W0 + scatter(delta): the merged weight (out, in).
  at::Tensor merged(const at::Tensor& frozen_weight) const override;

 private:
  Axis axis_;
  at::Tensor indices_, delta_;
};

// Per-unit scores of one layer, from `score` (grad scores need `gradients`: module name -> |grad| sum).
using GradientScores = std::map<std::string, at::Tensor>;   // module name -> accumulated |dL/dW| (out, in)

class Spf {
 public:
  // Selects units on every loaded layer of `model` and attaches zero deltas (trainable).
  static Spf attach(model::Transformer& model, const SpfConfig& config, const GradientScores& gradients = {});
  // Attaches deltas with given indices and values (loading a saved adapter).
  static Spf attach_saved(model::Transformer& model, const std::map<std::string, at::Tensor>& tensors);

  const std::map<std::string, std::shared_ptr<SpfAdapter>>& modules() const { return modules_; }
  std::vector<at::Tensor> parameters() const;
  // "<module>.spf_indices" (int64) and "<module>.spf_delta" per module.
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  int64_t trainable_parameters() const;

 private:
  std::map<std::string, std::shared_ptr<SpfAdapter>> modules_;
};

}  // namespace sg::peft
