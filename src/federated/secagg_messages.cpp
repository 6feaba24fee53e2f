#include "federated/secagg_messages.h"

#include <optional>
#include <stdexcept>
#include <string>

namespace sg::federated {
namespace {

using nlohmann::json;

// The largest ciphertext or share a message may carry: a share ciphertext is 64 bytes of shares plus the AEAD's
// overhead, a revealed share 32 bytes.
constexpr std::size_t kMaxBlobBytes = 256;

const json& field(const json& j, const char* what, const char* name) {
  if (!j.is_object() || !j.contains(name) || !j[name].is_string())
    throw std::invalid_argument(std::string(what) + ": field '" + name + "' must be a hex string");
  return j[name];
}

template <std::size_t N>
std::array<uint8_t, N> fixed_hex(const json& j, const char* what, const char* name) {
  const auto bytes = crypto::from_hex_array<N>(field(j, what, name).get<std::string>());
  if (!bytes)
    throw std::invalid_argument(std::string(what) + ": field '" + name + "' must be " + std::to_string(N) + " bytes in hex");
  return *bytes;
}

crypto::Bytes blob_hex(const json& j, const char* what, const char* name) {
  const auto& text = field(j, what, name).get_ref<const std::string&>();
  auto bytes = text.size() <= 2 * kMaxBlobBytes ? crypto::from_hex(text) : std::nullopt;
  if (!bytes || bytes->empty())
    throw std::invalid_argument(std::string(what) + ": field '" + name + "' must be 1.." + std::to_string(kMaxBlobBytes) +
                                " bytes in hex");
  return std::move(*bytes);
}

std::string hex(crypto::ByteView bytes) { return crypto::to_hex(bytes); }

}  // namespace

void to_json(json& j, const MaskKeyAnnouncement& m) {
  j = {{"identity", hex(m.identity)},   {"mask_key", hex(m.mask_key)},   {"share_key", hex(m.share_key)},
       {"min_participants", m.min_participants}, {"signature", hex(m.signature)}};
}
void from_json(const json& j, MaskKeyAnnouncement& m) {
  constexpr const char* what = "mask key announcement";
  if (!j.is_object() || !j.contains("min_participants") || !j["min_participants"].is_number_integer())
    throw std::invalid_argument(std::string(what) + ": field 'min_participants' must be an integer");
  m = {fixed_hex<32>(j, what, "identity"), fixed_hex<32>(j, what, "mask_key"), fixed_hex<32>(j, what, "share_key"),
       j["min_participants"].get<int>(), fixed_hex<64>(j, what, "signature")};
}

void to_json(json& j, const EncryptedShares& m) { j = {{"to", hex(m.to)}, {"ciphertext", hex(m.ciphertext)}}; }
void from_json(const json& j, EncryptedShares& m) {
  m = {fixed_hex<32>(j, "encrypted shares", "to"), blob_hex(j, "encrypted shares", "ciphertext")};
}

void to_json(json& j, const ShareMessage& m) {
  j = {{"seed_commitment", hex(m.seed_commitment)}, {"shares", m.shares}};
}
void from_json(const json& j, ShareMessage& m) {
  m.seed_commitment = fixed_hex<32>(j, "share message", "seed_commitment");
  if (!j.contains("shares") || !j["shares"].is_array())
    throw std::invalid_argument("share message: field 'shares' must be an array");
  m.shares = j["shares"].get<std::vector<EncryptedShares>>();
}

void to_json(json& j, const InboxEntry& m) { j = {{"from", hex(m.from)}, {"ciphertext", hex(m.ciphertext)}}; }
void from_json(const json& j, InboxEntry& m) {
  m = {fixed_hex<32>(j, "inbox entry", "from"), blob_hex(j, "inbox entry", "ciphertext")};
}

void to_json(json& j, const Confirmation& m) { j = {{"identity", hex(m.identity)}, {"signature", hex(m.signature)}}; }
void from_json(const json& j, Confirmation& m) {
  m = {fixed_hex<32>(j, "confirmation", "identity"), fixed_hex<64>(j, "confirmation", "signature")};
}

void to_json(json& j, const RevealedShare& m) { j = {{"of", hex(m.of)}, {"share", hex(m.share)}}; }
void from_json(const json& j, RevealedShare& m) {
  m = {fixed_hex<32>(j, "revealed share", "of"), blob_hex(j, "revealed share", "share")};
}

std::string short_id(const crypto::VerifyKey& identity) { return hex(identity).substr(0, 16); }

json identities_to_json(const std::vector<crypto::VerifyKey>& identities) {
  json out = json::array();
  for (const auto& id : identities) out.push_back(hex(id));
  return out;
}

std::vector<crypto::VerifyKey> identities_from_json(const json& j, const char* what) {
  if (!j.is_array()) throw std::invalid_argument(std::string(what) + ": must be an array of identities in hex");
  std::vector<crypto::VerifyKey> out;
  for (const auto& id : j) {
    const auto key = id.is_string() ? crypto::from_hex_array<32>(id.get<std::string>()) : std::nullopt;
    if (!key) throw std::invalid_argument(std::string(what) + ": an identity is not 32 bytes in hex");
    out.push_back(*key);
  }
  return out;
}

}  // namespace sg::federated
