#include <gtest/gtest.h>

#include "model/config.h"
#include "slicing/plan.h"

namespace sg::slicing {
namespace {

model::ModelConfig four_layers() {
  model::ModelConfig c;
  c.num_layers = 4;
  return c;
}

std::string error_of(const std::string& text, const model::ModelConfig* config = nullptr) {
  try {
    auto plan = SlicePlan::parse(text, "plan.json");
    if (config) plan.validate_for(*config);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(SlicePlan, SplitGivesDisjointSlicesThatCoverTheModel) {
  const auto plan = SlicePlan::parse(R"({"kind":"split","cut_layer":2})", "plan.json");
  const auto client = plan.client_slice(four_layers());
  const auto server = plan.server_slice(four_layers());
  EXPECT_TRUE(client.embedding);
  EXPECT_FALSE(client.head);
  EXPECT_EQ(client.first_layer, 0);
  EXPECT_EQ(client.end_layer, 2);
  EXPECT_FALSE(server.embedding);
  EXPECT_TRUE(server.head);
  EXPECT_EQ(server.first_layer, 2);
  EXPECT_EQ(server.end_layer, 4);
}

TEST(SlicePlan, UShapedKeepsTheHeadOnTheClient) {
  const auto plan = SlicePlan::parse(R"({"kind":"u-shaped","cut_layer":1})", "plan.json");
  EXPECT_TRUE(plan.client_slice(four_layers()).head);
  EXPECT_FALSE(plan.server_slice(four_layers()).head);
}

TEST(SlicePlan, FederatedHasNoServerSlice) {
  const auto plan = SlicePlan::parse(R"({"kind":"federated"})", "plan.json");
  EXPECT_EQ(plan.client_slice(four_layers()).end_layer, -1);
  EXPECT_THROW(plan.server_slice(four_layers()), std::invalid_argument);
}

TEST(SlicePlan, ErrorsNameTheFileAndField) {
  const auto config = four_layers();
  EXPECT_NE(error_of("{not json").find("plan.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"diagonal","cut_layer":1})").find("field 'kind'"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"split"})").find("field 'cut_layer'"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"split","cut_layer":0})").find("must be >= 1"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"split","cut_layer":2,"sites":{}})").find("unknown field 'sites'"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"federated","cut_layer":2})").find("does not cut"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"split","cut_layer":3,"num_layers":3})").find("must be < num_layers"), std::string::npos);
  // Against the model: k out of range, and a plan pinned to another model.
  EXPECT_NE(error_of(R"({"kind":"split","cut_layer":4})", &config).find("must be in [1, 3]"), std::string::npos);
  EXPECT_NE(error_of(R"({"kind":"split","cut_layer":2,"num_layers":6})", &config).find("this model has 4"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"kind":"split","cut_layer":3,"num_layers":4})", &config), "");
}

}  // namespace
}  // namespace sg::slicing
