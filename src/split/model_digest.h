// What a split job pins of the model it serves (SplitJob::model_digest): SHA-256 over the model's config.json
// and every tensor of the server slice as loaded into memory (name, shape, float32 bytes, in name order). The
// enclave computes it over the tensors it will train with, so a host that swaps or edits a weight file between
// `sliceguard server` writing the job and the enclave loading it is refused.
#pragma once

#include <string>

#include "train/slice_trainer.h"

namespace sg::model {
class Transformer;
}

namespace sg::split {

// Hex digest of a loaded slice of the model in `model_dir`.
std::string slice_digest(const model::Transformer& slice, const std::string& model_dir);
// Loads the slice `options` name and digests it: what `sliceguard server` writes into the job.
std::string slice_digest(const train::SliceTrainerOptions& options);

}  // namespace sg::split
