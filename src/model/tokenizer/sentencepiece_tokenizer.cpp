#include "model/tokenizer/sentencepiece_tokenizer.h"

#include <algorithm>

#include "model/tokenizer/pipeline_tokenizer.h"
#include "model/tokenizer/sentencepiece_bpe.h"
#include "sentencepiece_model.pb.h"

namespace sg::model {
namespace {

using sentencepiece::ModelProto;
using sentencepiece::NormalizerSpec;
using sentencepiece::TrainerSpec;

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581 "▁"

// SentencePiece's normalizer without a precompiled charsmap (rule "identity"): only U+0020 counts as
// whitespace; optional trimming and collapsing of spaces, a dummy "▁" prefix, spaces escaped to "▁".
Normalizer sentencepiece_normalizer(const NormalizerSpec& spec) {
  const bool remove_extra = spec.remove_extra_whitespaces();
  const bool dummy_prefix = spec.add_dummy_prefix();
  const std::string space = spec.escape_whitespaces() ? std::string(kSpaceSymbol) : " ";
  return [=](std::string_view input) {
    size_t pos = 0;
    if (remove_extra) {
      while (pos < input.size() && input[pos] == ' ') ++pos;
    }
    std::string out;
    if (pos == input.size()) return out;
    if (dummy_prefix) out += space;
    bool previous_was_space = remove_extra;
    for (; pos < input.size(); ++pos) {
      if (input[pos] != ' ') {
        out += input[pos];
        previous_was_space = false;
      } else if (!previous_was_space) {
        out += space;
        previous_was_space = remove_extra;
      }
    }
    if (remove_extra) {
      while (out.size() >= space.size() && out.compare(out.size() - space.size(), space.size(), space) == 0) {
        out.resize(out.size() - space.size());
      }
    }
    return out;
  };
}

SentencePieceEntry::Type entry_type(ModelProto::SentencePiece::Type type, const std::string& where) {
  switch (type) {
    case ModelProto::SentencePiece::NORMAL: return SentencePieceEntry::Type::kNormal;
    case ModelProto::SentencePiece::UNKNOWN: return SentencePieceEntry::Type::kUnknown;
    case ModelProto::SentencePiece::CONTROL: return SentencePieceEntry::Type::kControl;
    case ModelProto::SentencePiece::USER_DEFINED: return SentencePieceEntry::Type::kUserDefined;
    case ModelProto::SentencePiece::BYTE: return SentencePieceEntry::Type::kByte;
    case ModelProto::SentencePiece::UNUSED: break;
  }
  throw TokenizerError(where + ".type UNUSED is not supported");
}

void check_supported(const ModelProto& proto, const std::string& file) {
  const TrainerSpec& trainer = proto.trainer_spec();
  if (trainer.model_type() != TrainerSpec::BPE) {
    throw TokenizerError(file + ": trainer_spec.model_type " + TrainerSpec::ModelType_Name(trainer.model_type()) +
                         " is not supported (only BPE)");
  }
  if (trainer.treat_whitespace_as_suffix()) {
    throw TokenizerError(file + ": trainer_spec.treat_whitespace_as_suffix true is not supported");
  }
  if (!proto.normalizer_spec().precompiled_charsmap().empty()) {
    throw TokenizerError(file + ": normalizer_spec.precompiled_charsmap (rule '" + proto.normalizer_spec().name() +
                         "') is not supported (only the 'identity' rule)");
  }
}

}  // namespace

std::unique_ptr<Tokenizer> parse_sentencepiece_tokenizer(std::string_view bytes, const std::string& file_name,
                                                         const TokenizerConfig& config) {
  ModelProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw TokenizerError(file_name + ": not a SentencePiece ModelProto");
  }
  check_supported(proto, file_name);

  std::vector<SentencePieceEntry> pieces;
  std::optional<int32_t> unk_id;
  for (int i = 0; i < proto.pieces_size(); ++i) {
    const auto& piece = proto.pieces(i);
    pieces.push_back({piece.piece(), piece.score(), entry_type(piece.type(), file_name + ": pieces[" + std::to_string(i) + "]")});
    if (pieces.back().type == SentencePieceEntry::Type::kUnknown) unk_id = i;
  }
  if (!unk_id) throw TokenizerError(file_name + ": pieces has no piece of type UNKNOWN");

  // Specials: the config's names, else the trainer's ids (the file's CONTROL pieces <s>, </s>).
  auto piece_id = [&](const std::optional<std::string>& name, int32_t trainer_id) -> std::optional<int32_t> {
    if (name) {
      for (size_t i = 0; i < pieces.size(); ++i) {
        if (pieces[i].piece == *name) return static_cast<int32_t>(i);
      }
      throw TokenizerError("tokenizer_config.json: '" + *name + "' is not a piece of " + file_name);
    }
    if (trainer_id >= 0 && trainer_id < static_cast<int32_t>(pieces.size())) return trainer_id;
    return std::nullopt;
  };
  const TrainerSpec& trainer = proto.trainer_spec();
  Pipeline p;
  p.file = file_name;
  p.bos = piece_id(config.bos_token, trainer.bos_id());
  p.eos = piece_id(config.eos_token, trainer.eos_id());
  p.pad = piece_id(config.pad_token, trainer.pad_id());
  const auto split_unk = piece_id(config.unk_token, *unk_id);

  std::vector<AddedToken> specials;
  for (const auto& id : {split_unk, p.bos, p.eos, p.pad}) {
    if (id && !std::any_of(specials.begin(), specials.end(), [&](const AddedToken& t) { return t.id == *id; })) {
      specials.push_back({*id, pieces[*id].piece, /*special=*/true});
    }
  }
  p.added = AddedVocabulary(std::move(specials), nullptr);
  p.normalizer = sentencepiece_normalizer(proto.normalizer_spec());
  if (config.add_bos_token.value_or(true) && p.bos) p.post_processor.before.push_back(*p.bos);
  if (config.add_eos_token.value_or(false) && p.eos) p.post_processor.after.push_back(*p.eos);

  std::vector<Decoder> decode_steps{replace_decoder(std::string(kSpaceSymbol), " "), byte_fallback_decoder(),
                                    fuse_decoder()};
  if (proto.normalizer_spec().add_dummy_prefix()) decode_steps.push_back(strip_decoder(U' ', 1, 0));
  p.decoder = sequence_decoder(std::move(decode_steps));
  p.model = std::make_unique<SentencePieceBpe>(std::move(pieces), *unk_id, trainer.byte_fallback());
  return std::make_unique<PipelineTokenizer>(std::move(p), TokenizerConfig{});
}

}  // namespace sg::model
