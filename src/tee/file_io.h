// Whole-file reads and writes for the pseudo-files of attestation interfaces (/dev/attestation, configfs-tsm),
// where one read or write is one request and errors must name the file.
#pragma once

#include <string>

#include "tee/error.h"
#include "tee/messages.h"

namespace sg::tee {

[[nodiscard]] Result<Bytes> read_file(const std::string& path, std::size_t max_bytes);
[[nodiscard]] Status write_file(const std::string& path, ByteView bytes);

}  // namespace sg::tee
