#include "federated/adapter_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "federated/job.h"
#include "federated/peer_attestation.h"
#include "federated/secure_aggregation.h"
#include "federated/protocol.h"
#include "crypto/key_exchange.h"
#include "crypto/otp_channel.h"
#include "crypto/secret_key.h"
#include "crypto/signing.h"
#include "model/layers.h"
#include "model/transformer.h"
#include "split/wire.h"
#include "tee/enclave_runtime.h"
#include "tee/evidence.h"
#include "tee/messages.h"
#include "tee/policy.h"
#include "tee/verifier.h"
#include "train/archive_bytes.h"
#include "train/compute_threads.h"
#include "train/micro_step.h"

namespace sg::federated {
namespace {

using nlohmann::json;
using split::from_wire;
using split::to_wire;

class AdapterService {
 public:
  AdapterService(ClientJob job, tee::AttestationBackend& attestation, tee::Bytes own_config, tee::TrustedState& state)
      : job_(std::move(job)), attestation_(attestation), own_config_(std::move(own_config)), state_(state) {}

  crypto::Envelope handle(const std::string& op, const json& control, const crypto::Envelope& request) {
    if (op == op::kInit) return init(control);
    if (!lora_ && !prefix_) throw std::invalid_argument("'" + op + "' before init");
    if (op == op::kServerHello) return server_hello();
    if (op == op::kServerConnect) return server_connect(control);
    if (op == op::kToServer) return to_server(control);
    if (op == op::kFromServer) return from_server(request);
    if (op == op::kForward) return forward(request, control);
    if (op == op::kBackward) return backward(request, control);
    if (op == op::kPrefixForward) return prefix_forward(request, control);
    if (op == op::kPrefixBackward) return prefix_backward(request, control);
    if (op == op::kMicro) {
      train::seed_batch(job_.seed, {control.at("epoch").get<int>(), control.at("index").get<std::size_t>()});
      micro_counted_ = false;
      return split::json_reply(json::object());
    }
    if (op == op::kBegin) {
      if (!optimizer_) {
        auto options = job_.optimizer;
        options.total_steps = control.at("total_steps").get<int>();
        optimizer_.emplace(lora_ ? lora_->parameters() : prefix_->parameters(), options);
        total_steps_ = options.total_steps;
        try {
          restore_if_sealed();
        } catch (...) {
          optimizer_.reset();   // a later begin checks the sealed state again
          throw;
        }
      }
      return split::json_reply({{"total_steps", total_steps_}});
    }
    if (op == op::kStep) {
      if (!optimizer_) throw std::invalid_argument("step before begin");
      pending_.clear();
      const auto r = train::finish_micro_step(*optimizer_, control.at("loss").get<double>());
      return split::json_reply({{"stepped", r.stepped}, {"step", optimizer_->step()}, {"lr", r.lr}});
    }
    throw std::invalid_argument("unknown op '" + op + "'");
  }

 private:
  // A training forward awaiting its backward: which modules it ran on an input of which shape, and the
  // generator state its dropout drew from.
  struct Call {
    std::vector<std::string> modules;
    std::vector<int64_t> input_shape;
    at::Tensor dropout_state;
  };
  static constexpr std::size_t kMaxPendingCalls = 4096;   // forwards awaiting backward in one micro-step

  crypto::Envelope init(const json& control) {
    if (lora_ || prefix_) throw std::invalid_argument("init twice");
    if (job_.method == "ptuning") return init_prefix(control.at("model"));
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
    return split::json_reply({{"method", "lora"}, {"adapted", adapted}, {"trainable_parameters", parameters},
                              {"accumulation", job_.optimizer.accumulation}});
  }

  crypto::Envelope init_prefix(const json& model) {
    const peft::PrefixShape shape{model.at("layers").get<int>(), model.at("kv_heads").get<int64_t>(),
                                  model.at("head_dim").get<int64_t>(), model.at("hidden_size").get<int64_t>()};
    torch::manual_seed(job_.seed);   // the same draws as Prefix::create after `finetune --seed`
    prefix_.emplace(peft::Prefix::create(shape, job_.prefix, torch::TensorOptions().dtype(torch::kFloat32)));
    int64_t parameters = 0;
    for (const auto& p : prefix_->parameters()) parameters += p.numel();
    spdlog::info("federated client: a {}-token prefix, {} parameters held in the enclave",
                 job_.prefix.num_virtual_tokens, parameters);
    return split::json_reply({{"method", "ptuning"}, {"adapted", json::array()}, {"trainable_parameters", parameters},
                              {"accumulation", job_.optimizer.accumulation},
                              {"num_virtual_tokens", job_.prefix.num_virtual_tokens}});
  }

  // The trainable tensors under the names the server enclave averages them by.
  std::vector<std::pair<std::string, at::Tensor>> held_tensors() const {
    std::vector<std::pair<std::string, at::Tensor>> held;
    if (prefix_)
      for (const auto& [name, p] : prefix_->named_parameters()) held.emplace_back("prefix." + name, p);
    if (lora_)
      for (const auto& [name, m] : lora_->modules()) {
        held.emplace_back(name + ".lora_A.weight", m->a());
        held.emplace_back(name + ".lora_B.weight", m->b());
      }
    return held;
  }

  // --- federation: this enclave is the end point of its OTP session with the server enclave -------------

  crypto::Envelope server_hello() {
    if (job_.server_policy.empty()) throw std::invalid_argument("this client enclave's job has no server_policy");
    auto nonce = crypto::SecretKey::random(tee::kEvidenceNonceBytes);
    nonce_ = crypto::Bytes(nonce.data(), nonce.data() + nonce.size());
    return split::json_reply({{"nonce", crypto::to_hex(nonce_)}});
  }

  crypto::Envelope server_connect(const json& control) {
    if (nonce_.empty()) throw std::invalid_argument("server_connect before server_hello");
    const auto nonce = std::exchange(nonce_, {});   // one evidence per nonce
    auto evidence_bytes = crypto::from_hex(control.at("evidence").get<std::string>());
    auto key_bytes = crypto::from_hex(control.at("enclave_key").get<std::string>());
    crypto::KxPublicKey server_key{};
    if (!evidence_bytes || !key_bytes || key_bytes->size() != server_key.size())
      throw std::invalid_argument("server_connect needs hex 'evidence' and a 32-byte hex 'enclave_key'");
    std::copy(key_bytes->begin(), key_bytes->end(), server_key.begin());
    const auto policy = tee::Policy::parse(job_.server_policy, "the job's server_policy").value();
    const auto evidence = tee::parse_evidence(*evidence_bytes).value();
    auto verified = tee::verify_evidence(evidence, policy, nonce, server_key);
    if (!verified) throw std::invalid_argument("server evidence refused: " + verified.error().message);
    auto mine = crypto::KxKeyPair::generate();
    auto keys = crypto::derive_session_keys(crypto::Role::client, mine, server_key).value();
    server_ = std::make_unique<crypto::OtpChannel>(std::move(keys));
    spdlog::info("federated client: server enclave {} attested", crypto::to_hex(verified->measurement).substr(0, 16));
    // Our half of the mutual attestation: evidence over our session key and the server enclave's key.
    auto attestation =
        make_peer_attestation(attestation_, own_config_, mine.public_key, server_key, identity().public_key).value();
    return split::json_reply({{"client_key", crypto::to_hex(mine.public_key)}, {"attestation", attestation}});
  }

  // This enclave's long-term identity: made at its first start, kept in the trusted state (sealed with it), so
  // a restarted client is the same client to the aggregator.
  crypto::SigningKeyPair identity() {
    auto& seed = state_[kIdentity];
    if (seed.empty()) {
      const auto fresh = crypto::SigningKeyPair::generate().seed();
      seed.assign(fresh.data(), fresh.data() + fresh.size());
    }
    return crypto::SigningKeyPair::from_seed(crypto::SecretKey::copy_of(seed));
  }

  // FedAvg's weight of this client: the examples this enclave trained on since the last global adapter, counted
  // by the first backward of each micro-batch (its rows), so a host can raise it only by training on more.
  void count_examples(int64_t rows) {
    if (micro_counted_) return;
    examples_ += rows;
    micro_counted_ = true;
  }
  int64_t round_examples() const {
    if (examples_ < 1) throw std::invalid_argument("submit without a trained example since the last global adapter");
    return examples_;
  }

  // Seals a request for the server enclave; a "submit" carries this enclave's adapter. The host gets only frames.
  crypto::Envelope to_server(const json& control) {
    if (!server_) throw std::invalid_argument("to_server before server_connect");
    json request = control.at("request");
    std::vector<crypto::Tensor> tensors;
    const auto what = request.at("op").get<std::string>();
    if (what == op::kJoin) {   // a fresh mask key per round, signed by this enclave's identity
      const int round = request.at("round").get<int>();
      refuse_a_second_mask(round);
      mask_key_ = std::make_unique<crypto::KxKeyPair>(crypto::KxKeyPair::generate());
      mask_round_ = round;
      mine_ = announce_mask_key(identity(), mask_key_->public_key, round);
      request["announcement"] = to_json(mine_);
    } else if (what == op::kSubmit) {
      request["samples"] = round_examples();   // what this enclave trained on, not what the host says
      if (request.value("masked", false)) {
        tensors.push_back(masked_update(request));
      } else {
        for (const auto& [name, tensor] : held_tensors()) tensors.push_back(to_wire(name, tensor));
      }
    }
    auto frames = crypto::seal_envelope(*server_, {request.dump(), std::move(tensors)}).value();
    std::vector<crypto::Tensor> out;
    for (std::size_t i = 0; i < frames.size(); ++i)
      out.push_back({{"frame." + std::to_string(i), "U8", {int64_t(frames[i].size())}}, std::move(frames[i])});
    return split::json_reply(json::object(), std::move(out));
  }

  // Opens the server enclave's reply; a reply with the global adapter replaces this enclave's adapter.
  crypto::Envelope from_server(const crypto::Envelope& request) {
    if (!server_) throw std::invalid_argument("from_server before server_connect");
    std::vector<crypto::ByteView> frames;
    for (const auto& t : request.tensors) frames.emplace_back(t.data.data(), t.data.size());
    auto reply = crypto::open_envelope(*server_, frames);
    if (!reply) throw std::invalid_argument("server reply rejected: " + reply.error().message);
    auto control = json::parse(reply->control, nullptr, /*allow_exceptions=*/false);
    if (!control.is_object()) throw std::invalid_argument("the server enclave sent a malformed reply");
    if (control.contains("error")) {   // the server's refusal, told apart from this enclave's own errors
      control["server_error"] = control["error"];
      control.erase("error");
    }
    if (!reply->tensors.empty()) {
      install_global(*reply);
      installed_global_ = true;
      save();   // a round ended here: what a restarted client continues from
    }
    if (control.value("fixed", false)) {   // secure aggregation: the round's participants, checked
      if (!mask_key_) throw std::invalid_argument("a participant set before this client joined");
      std::vector<MaskKeyAnnouncement> set;
      for (const auto& a : control.at("participants")) set.push_back(announcement_from_json(a));
      mask_peers_ = checked_participants(set, mine_, mask_round_, job_.min_participants);
      control.erase("participants");   // the host needs only that the set is fixed
    }
    if (control.value("closed", false)) examples_ = 0;   // a round ended (with or without this client)
    if (control.contains("state_generation")) refuse_a_rewound_server(control.at("state_generation").get<uint64_t>());
    return split::json_reply(control);
  }

  // The server enclave's sealed state must not go back: this enclave keeps the newest generation it saw (in its
  // own sealed state) and refuses an older one — an operator that restored an old aggregator blob to replay a
  // round with other participants.
  void refuse_a_rewound_server(uint64_t generation) {
    auto& seen = state_[kServerGeneration];
    const uint64_t newest = seen.empty() ? 0 : std::stoull(std::string(seen.begin(), seen.end()));
    if (generation < newest)
      throw std::invalid_argument("the server enclave's state is generation " + std::to_string(generation) +
                                  ", older than generation " + std::to_string(newest) + " this client saw: its "
                                  "host restored an older sealed state or started it afresh; refusing to go on");
    const std::string text = std::to_string(generation);
    seen.assign(text.begin(), text.end());
  }

  // One masked update per round, ever (the last round masked is in the trusted state, sealed with it): two
  // masked sums of one round over different sets would give the server the difference, one client's update.
  void refuse_a_second_mask(int round) {
    const auto& last = state_[kMaskedRound];
    if (!last.empty() && std::string(last.begin(), last.end()) == std::to_string(round))
      throw std::invalid_argument("this client enclave already masked its update for round " + std::to_string(round) +
                                  "; it masks one per round (a second sum would reveal a participant's update)");
  }

  // This enclave's update n * (A, B), in fixed point, masked against every other participant of the round.
  crypto::Tensor masked_update(json& request) {
    if (!mask_key_ || mask_peers_.empty()) throw std::invalid_argument("masked submit before join and peers");
    const int round = request.at("round").get<int>();
    if (round != mask_round_) throw std::invalid_argument("masked submit for another round than this client joined");
    refuse_a_second_mask(round);
    const std::string masked_round = std::to_string(round);
    state_[kMaskedRound] = crypto::Bytes(masked_round.begin(), masked_round.end());
    const crypto::KxKeyPair mask_key = std::move(*std::exchange(mask_key_, nullptr));   // consumed: masks nothing else
    std::vector<float> values;
    json layout = json::array();
    for (const auto& [name, param] : held_tensors()) {
      const auto flat = param.detach().contiguous().flatten();
      values.insert(values.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
      layout.push_back({name, param.sizes().vec()});
    }
    const auto encoded = encode_weighted(values, double(request.at("samples").get<int64_t>()), int(mask_peers_.size()));
    const auto masked = mask_update(encoded, mask_key, mask_peers_, uint64_t(round) << 32);
    request["layout"] = layout;
    auto words = torch::empty({int64_t(masked.size())}, torch::kInt32);
    std::memcpy(words.data_ptr<int32_t>(), masked.data(), masked.size() * sizeof(uint32_t));
    return to_wire("masked", words);
  }

  void install_global(const crypto::Envelope& global) {
    torch::NoGradGuard no_grad;
    const auto held = held_tensors();
    if (global.tensors.size() != held.size())
      throw std::invalid_argument("the global adapter has " + std::to_string(global.tensors.size()) +
                                  " tensors, this enclave holds " + std::to_string(held.size()));
    for (const auto& [name, param] : held) {
      auto value = from_wire(global, name, torch::kFloat32, param.dim());
      if (value.sizes() != param.sizes())
        throw std::invalid_argument("global tensor '" + name + "' has shape " + c10::str(value.sizes()) +
                                    ", this enclave's is " + c10::str(param.sizes()));
      param.copy_(value);
    }
  }

  // --- this enclave's own state, sealed by its host after every round ------------------------------------
  // The optimiser (AdamW moments, step), the run's length and the adapter's shapes: a restarted client continues
  // its AdamW from the last round's end instead of starting it afresh. The adapter itself comes from the server
  // enclave when the client rejoins (the newest global), never from the seal.

  static constexpr const char* kSnapshot = "federated-client";
  static constexpr const char* kIdentity = "federated-client.identity";
  static constexpr const char* kMaskedRound = "federated-client.masked-round";
  static constexpr const char* kServerGeneration = "federated-client.server-generation";

  void save() {
    if (!optimizer_) return;
    torch::serialize::OutputArchive archive;
    for (const auto& [name, tensor] : held_tensors()) archive.write("adapter." + name, tensor.detach());
    archive.write("total_steps", torch::tensor(int64_t(total_steps_)));
    optimizer_->save(archive, "optimizer");
    const std::string snapshot = train::archive_bytes(archive);
    state_[kSnapshot] = crypto::Bytes(snapshot.begin(), snapshot.end());
  }

  void restore_if_sealed() {
    auto it = state_.find(kSnapshot);
    if (it == state_.end()) return;
    torch::serialize::InputArchive archive;
    train::load_archive_bytes(archive, std::string(it->second.begin(), it->second.end()));
    at::Tensor total;
    archive.read("total_steps", total);
    if (total.item<int64_t>() != total_steps_)
      throw std::invalid_argument("the sealed client state is of a run of " + std::to_string(total.item<int64_t>()) +
                                  " optimiser steps, this run plans " + std::to_string(total_steps_) +
                                  " (other data or options): move the sealed state away to start fresh");
    // A snapshot is written only once a round has closed, so a client that joined without fetching a global
    // adapter (at round 0) holds a state from another federation.
    if (!installed_global_)
      throw std::invalid_argument("a sealed client state exists but this federation has not closed a round yet: it "
                                  "is another federation's; move the sealed state away to start fresh");
    for (const auto& [name, param] : held_tensors()) {   // the moments must fit these parameters
      at::Tensor saved;
      if (!archive.try_read("adapter." + name, saved) || saved.sizes() != param.sizes())
        throw std::invalid_argument("the sealed client state has no tensor '" + name + "' of shape " +
                                    c10::str(param.sizes()) + ": it belongs to another model or adapter");
    }
    optimizer_->load(archive, "optimizer");
    spdlog::info("federated client: restored the sealed optimiser at step {}", optimizer_->step());
  }

  const peft::LoraAdapter& module(const std::string& name) const {
    auto it = lora_->modules().find(name);
    if (it == lora_->modules().end()) throw std::invalid_argument("module '" + name + "' has no adapter here");
    return *it->second;
  }

  // --- the prefix: this enclave's part of every layer's attention -----------------------------------------

  // A named tensor of a request with the expected rank.
  static at::Tensor tensor(const crypto::Envelope& request, const std::string& name, int64_t dim) {
    if (!request.find(name)) throw std::invalid_argument("request without tensor '" + name + "'");
    return from_wire(request, name, torch::kFloat32, dim);
  }

  // Layer `layer`'s queries q (B,H,T,E) over the prefix keys: the part of attention and its log-sum-exp.
  model::PartialAttention prefix_attention(int layer, const at::Tensor& q) const {
    if (!prefix_) throw std::invalid_argument("this client enclave holds LoRA, not a prefix");
    const auto cache = prefix_->initial_cache(1);
    if (layer < 0 || layer >= int(cache.keys.size()))
      throw std::invalid_argument("layer " + std::to_string(layer) + " outside the prefix's " +
                                  std::to_string(cache.keys.size()) + " layers");
    if (q.size(3) != prefix_->head_dim() || q.size(1) % cache.keys[layer].size(1) != 0)
      throw std::invalid_argument("queries of shape " + c10::str(q.sizes()) + " do not fit the prefix's heads");
    return model::attend_partial(q, cache.keys[layer], cache.values[layer], {});
  }

  crypto::Envelope prefix_forward(const crypto::Envelope& request, const json& control) {
    torch::NoGradGuard no_grad;   // backward recomputes: the enclave keeps no activations between calls
    const auto part = prefix_attention(control.at("layer").get<int>(), tensor(request, "q", 4));
    return split::json_reply(json::object(), {to_wire("out", part.out), to_wire("lse", part.lse)});
  }

  crypto::Envelope prefix_backward(const crypto::Envelope& request, const json& control) {
    auto q = tensor(request, "q", 4).requires_grad_(true);
    count_examples(q.size(0));
    auto d_out = tensor(request, "d_out", 4), d_lse = tensor(request, "d_lse", 3);
    torch::AutoGradMode grad_mode(true);
    const auto part = prefix_attention(control.at("layer").get<int>(), q);
    if (d_out.sizes() != part.out.sizes() || d_lse.sizes() != part.lse.sizes())
      throw std::invalid_argument("prefix gradients of shapes " + c10::str(d_out.sizes()) + " and " +
                                  c10::str(d_lse.sizes()) + " for queries " + c10::str(q.sizes()));
    torch::autograd::backward({part.out, part.lse}, {d_out, d_lse});   // accumulates into the prefix
    return split::json_reply(json::object(), {to_wire("dq", q.grad())});
  }

  // --- LoRA: the adapters' contributions at every adapted module -------------------------------------------
  // The enclave keeps no activations between calls: backward brings the group's input x back and the
  // contributions are recomputed, so its memory holds the adapter, AdamW and one group's activations. Only the
  // random-number state that drew a call's dropout masks is kept, to draw the same masks again.

  std::vector<std::string> modules_of(const json& control) const {
    auto modules = control.at("modules").get<std::vector<std::string>>();
    for (const auto& name : modules) module(name);   // each must have an adapter here
    return modules;
  }

  crypto::Envelope forward(const crypto::Envelope& request, const json& control) {
    if (!lora_) throw std::invalid_argument("this client enclave holds a prefix, not LoRA");
    const auto x = input(request);
    const bool training = control.at("train").get<bool>();
    const auto modules = modules_of(control);
    lora_->set_training(training);   // dropout only while training
    if (training) {
      if (pending_.size() >= kMaxPendingCalls)
        throw std::invalid_argument("more than " + std::to_string(kMaxPendingCalls) + " forwards without a step");
      pending_[control.at("call").get<int64_t>()] = {modules, x.sizes().vec(), dropout_state()};
    }
    torch::NoGradGuard no_grad;
    std::vector<crypto::Tensor> out;
    for (const auto& name : modules) out.push_back(to_wire(name, module(name).delta(x)));
    return split::json_reply(json::object(), std::move(out));
  }

  crypto::Envelope backward(const crypto::Envelope& request, const json& control) {
    const auto id = control.at("call").get<int64_t>();
    auto it = pending_.find(id);
    if (it == pending_.end())
      throw std::invalid_argument("backward for call " + std::to_string(id) + ", which no training forward made");
    const Call call = std::move(it->second);
    pending_.erase(it);
    for (const auto& t : request.tensors)
      if (t.meta.name != "x" && std::find(call.modules.begin(), call.modules.end(), t.meta.name) == call.modules.end())
        throw std::invalid_argument("gradient for module '" + t.meta.name + "' not in this call");
    auto x = input(request).requires_grad_(true);
    count_examples(x.size(0));
    if (x.sizes() != at::IntArrayRef(call.input_shape))
      throw std::invalid_argument("backward of call " + std::to_string(id) + " brings x of shape " +
                                  c10::str(x.sizes()) + ", its forward's was " + c10::str(call.input_shape));
    lora_->set_training(true);
    torch::AutoGradMode grad_mode(true);
    // The forward's dropout masks, drawn again. The next micro-batch reseeds (op `micro`), so nothing later
    // depends on where this leaves the generator.
    if (call.dropout_state.defined()) set_generator_state(call.dropout_state);
    std::vector<at::Tensor> outputs, grads;
    for (const auto& name : call.modules) {
      auto delta = module(name).delta(x);   // every module, in the forward's order: the same draws
      if (!request.find(name)) continue;    // an output the host's loss did not reach
      auto grad = from_wire(request, name, torch::kFloat32, delta.dim());
      if (grad.sizes() != delta.sizes())
        throw std::invalid_argument("gradient for '" + name + "' has shape " + c10::str(grad.sizes()) +
                                    ", its output " + c10::str(delta.sizes()));
      outputs.push_back(delta);
      grads.push_back(grad);
    }
    if (!outputs.empty()) torch::autograd::backward(outputs, grads);
    const auto dx = x.grad().defined() ? x.grad() : torch::zeros_like(x);
    return split::json_reply(json::object(), {to_wire("dx", dx)});
  }

  static at::Tensor input(const crypto::Envelope& request) {
    const crypto::Tensor* wire = request.find("x");
    if (!wire) throw std::invalid_argument("request without the group's input 'x'");
    return from_wire(request, "x", torch::kFloat32, int64_t(wire->meta.shape.size()));
  }

  // The CPU generator's state before a forward's dropout draws; undefined without dropout (nothing to redraw).
  at::Tensor dropout_state() const {
    if (job_.lora.dropout <= 0) return {};
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    return generator.get_state();
  }

  static void set_generator_state(const at::Tensor& state) {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
  }

  ClientJob job_;
  tee::AttestationBackend& attestation_;
  tee::Bytes own_config_;   // this enclave's config file, as measured: shown to the server enclave
  tee::TrustedState& state_;   // sealed by the host (save / restore_if_sealed)
  bool installed_global_ = false;
  int64_t examples_ = 0;        // trained since the last global adapter (FedAvg weight)
  bool micro_counted_ = true;   // the current micro-batch's rows are in examples_
  std::optional<peft::Lora> lora_;       // the job's method: LoRA ...
  std::optional<peft::Prefix> prefix_;   // ... or P-tuning v2's prefix
  std::optional<train::Optimizer> optimizer_;
  int total_steps_ = 0;
  std::map<int64_t, Call> pending_;   // forward calls awaiting their backward, this micro-step
  crypto::Bytes nonce_;                          // sent with server_hello, consumed by server_connect
  std::unique_ptr<crypto::OtpChannel> server_;   // the session with the server enclave
  std::unique_ptr<crypto::KxKeyPair> mask_key_;  // secure aggregation: this round's mask key ...
  MaskKeyAnnouncement mine_;                     // ... as announced, signed by this enclave's identity
  int mask_round_ = -1;
  std::vector<crypto::KxPublicKey> mask_peers_;  // every participant's, this one's included
};

}  // namespace

void install_client_adapter_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  auto job = ClientJob::parse(config.job, config.path);
  train::set_compute_threads(job.threads);
  auto service = std::make_shared<AdapterService>(std::move(job), runtime.attestation(), config.bytes, runtime.state());
  split::serve_json_requests(runtime, [service](const tee::Caller&, const std::string& op, const json& control,
                                                 const crypto::Envelope& request) {
    return service->handle(op, control, request);
  });
}

}  // namespace sg::federated
