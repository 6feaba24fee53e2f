// Loss, schedule and optimiser semantics shared by every trainer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/loss.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace sg::train {
namespace {

TEST(Schedule, WarmupIsLinearFromZeroThenCosineToZero) {
  EXPECT_DOUBLE_EQ(cosine_with_warmup(0, 100, 10, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(cosine_with_warmup(5, 100, 10, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(cosine_with_warmup(10, 100, 10, 1.0), 1.0);
  EXPECT_NEAR(cosine_with_warmup(55, 100, 10, 1.0), 0.5, 1e-12);
  EXPECT_NEAR(cosine_with_warmup(100, 100, 10, 1.0), 0.0, 1e-12);
}

TEST(Loss, ShiftsByOneAndIgnoresMaskedLabels) {
  torch::manual_seed(0);
  auto logits = torch::randn({1, 4, 5});
  auto labels = torch::tensor({{-100, 2, -100, 4}}, torch::kInt64);
  // Position 0 predicts label 2, position 2 predicts label 4; positions 1 and 3 count for nothing.
  auto lp = logits.log_softmax(-1);
  const double expected = -(lp[0][0][2].item<double>() + lp[0][2][4].item<double>()) / 2;
  EXPECT_NEAR(causal_lm_loss(logits, labels).item<double>(), expected, 1e-6);
}

// The head at the counted positions only: the same loss and the same gradients as the head everywhere, and the
// head sees only the rows whose next label counts.
TEST(Loss, HeadAtLabelledPositionsEqualsTheFullHead) {
  torch::manual_seed(0);
  const auto weight = torch::randn({7, 6});
  auto labels = torch::tensor({{-100, -100, 3, 1}, {-100, 5, -100, -100}}, torch::kInt64);
  auto hidden = torch::randn({2, 4, 6}, torch::requires_grad());
  int64_t rows_seen = 0;
  const HeadFn head = [&](const at::Tensor& h) {
    rows_seen = h.numel() / h.size(-1);
    return torch::nn::functional::linear(torch::tanh(h), weight);
  };
  auto full = causal_lm_loss(head(hidden), labels);
  const auto full_grad = torch::autograd::grad({full}, {hidden})[0];
  auto at_labels = causal_lm_loss_at_labels(hidden, labels, head);
  EXPECT_EQ(rows_seen, 3);   // positions (0,1), (0,2), (1,0) predict the three counted labels
  const auto grad = torch::autograd::grad({at_labels}, {hidden})[0];
  EXPECT_NEAR(at_labels.item<double>(), full.item<double>(), 1e-6);
  EXPECT_TRUE(torch::allclose(grad, full_grad, 1e-5, 1e-7));
  EXPECT_EQ(grad[0][3].abs().sum().item<double>(), 0.0);   // a position no label follows gets no gradient
}

TEST(Optimizer, StepsOncePerAccumulationWindowAndClearsGradients) {
  auto w = torch::ones({3}).requires_grad_(true);
  OptimizerOptions o;
  o.accumulation = 3;
  o.total_steps = 10;
  o.lr = 0.1;
  Optimizer opt({w}, o);
  for (int i = 0; i < 2; ++i) {
    (w * 2).sum().backward();
    EXPECT_FALSE(opt.after_backward());
  }
  EXPECT_TRUE(torch::equal(w, torch::ones({3})));   // no step before the window closes
  (w * 2).sum().backward();
  EXPECT_TRUE(opt.after_backward());
  EXPECT_EQ(opt.step(), 1);
  EXPECT_FALSE(w.grad().defined() && w.grad().abs().sum().item<double>() > 0);
}

TEST(Optimizer, ClipsTheGlobalGradientNorm) {
  auto w = torch::zeros({4}).requires_grad_(true);
  OptimizerOptions o;
  o.max_grad_norm = 1.0;
  o.total_steps = 10;
  Optimizer opt({w}, o);
  (w * 10).sum().backward();   // gradient norm 20
  ASSERT_TRUE(opt.after_backward());
  EXPECT_NEAR(opt.last_grad_norm(), 20.0, 1e-5);
}

TEST(Optimizer, RefusesAnEmptyParameterList) {
  EXPECT_THROW(Optimizer({}, OptimizerOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace sg::train
