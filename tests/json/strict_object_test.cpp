// strict::JsonObject: what it refuses, and how its errors name the source and the field.
#include "json/strict_object.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace sg::strict {
namespace {

using nlohmann::json;

template <class F>
std::string error_of(F read) {
  try {
    read();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(StrictObject, UnknownFieldsAreRefusedWithTheExpectedOnesListed) {
  const json j = {{"kind", "split"}, {"sites", 1}};
  const JsonObject r(j, "plan.json");
  EXPECT_EQ(error_of([&] { r.only({"kind", "cut_layer"}); }),
            "plan.json: unknown field 'sites' (expected kind, cut_layer)");
  EXPECT_EQ(error_of([&] { r.only({"kind", "sites"}); }), "");
}

TEST(StrictObject, RequiredAndTypedFieldsNameTheField) {
  const json j = {{"n", "three"}, {"flag", 1}, {"names", {"a", 2}}};
  const JsonObject r(j, "job.json");
  EXPECT_EQ(error_of([&] { (void)r.required<int>("missing"); }), "job.json: field 'missing': is required");
  EXPECT_EQ(error_of([&] { (void)r.required<int>("n"); }), "job.json: field 'n': expected an integer, got \"three\"");
  EXPECT_EQ(error_of([&] { (void)r.optional<bool>("flag", false); }),
            "job.json: field 'flag': must be true or false, got 1");
  EXPECT_EQ(error_of([&] { (void)r.required<std::vector<std::string>>("names"); }),
            "job.json: field 'names[1]': expected a string, got 2");
  EXPECT_EQ(r.optional<int>("missing", 7), 7);
}

TEST(StrictObject, NullIsAWrongTypeUnlessTheReaderSaysItMeansAbsent) {
  const json j = {{"threads", nullptr}};
  const JsonObject ours(j, "enclave.json");
  EXPECT_EQ(error_of([&] { (void)ours.optional<int>("threads", 1); }),
            "enclave.json: field 'threads': expected an integer, got null");
  const JsonObject hugging_face(j, "config.json", JsonObject<>::Null::absent);
  EXPECT_FALSE(hugging_face.has("threads"));
  EXPECT_EQ(hugging_face.optional<int>("threads", 1), 1);
}

TEST(StrictObject, IntegersAreNonNegativeAndFitTheirType) {
  const uint64_t big_seed = std::numeric_limits<uint64_t>::max();
  const json j = {{"seed", big_seed}, {"steps", -1}, {"threads", 5000000000LL}};
  const JsonObject r(j, "job.json");
  EXPECT_EQ(r.required<uint64_t>("seed"), big_seed);
  EXPECT_EQ(error_of([&] { (void)r.required<int>("steps"); }),
            "job.json: field 'steps': expected a non-negative integer, got -1");
  EXPECT_EQ(error_of([&] { (void)r.required<int>("threads"); }), "job.json: field 'threads': is too large, got 5000000000");
  EXPECT_EQ(r.required<int64_t>("threads"), 5000000000LL);
}

TEST(StrictObject, ParseObjectTellsInvalidJsonFromANonObject) {
  EXPECT_EQ(error_of([] { (void)parse_object("[1]", "policy.json"); }), "policy.json: not a JSON object");
  EXPECT_EQ(error_of([] { (void)parse_object("{not json", "policy.json"); }).rfind("policy.json: not valid JSON: ", 0),
            0u);
}

}  // namespace
}  // namespace sg::strict
