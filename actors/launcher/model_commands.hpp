#pragma once

#include <string>

/// The launcher's model-file commands. Each returns the process exit status:
/// 0 success, 1 a file that cannot be found or read.
namespace troupe::launcher {

/// `troupe model info FILE`: prints to stdout the GGUF version, the
/// architecture, every metadata key with its type and value (long arrays and
/// strings summarized: type, count, first few items) and a table of tensors
/// (name, type, shape, bytes, absolute file offset). FILE is a path, or a
/// model name looked up like every other command's (models directory). A
/// missing or invalid file prints its gguf_error ("FILE: byte N: field 'X':
/// ...") to stderr and returns 1.
int cmd_model_info(const std::string& path);

} // namespace troupe::launcher
