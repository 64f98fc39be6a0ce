#pragma once

#include <string>
#include <utility>

namespace troupe::gpu {

/// Why an accelerator call did not succeed.
enum class status_code {
  ok,
  /// No driver or no device: expected on CPU-only machines, not a fault.
  no_device,
  /// Bad shape or pointer passed by the caller.
  invalid_argument,
  /// The CUDA runtime reported an error.
  cuda_error,
  /// NCCL reported an error.
  nccl_error,
  /// The call ran but produced a wrong result (a probe's self-check failed).
  mismatch,
};

/// Outcome of a call into an accelerator backend: errors are values, never
/// exceptions, so a device fault cannot unwind through an actor.
/// Invariants: ok() == (code() == status_code::ok); message() is empty
/// exactly when ok().
class status {
public:
  /// Success.
  status() = default;

  /// A failure with `code` (not status_code::ok) and a message that says what
  /// failed and, where known, the library's own error text.
  static status failure(status_code code, std::string message) {
    status result;
    result.code_ = code;
    result.message_ = std::move(message);
    return result;
  }

  bool ok() const noexcept {
    return code_ == status_code::ok;
  }

  status_code code() const noexcept {
    return code_;
  }

  const std::string& message() const noexcept {
    return message_;
  }

private:
  status_code code_ = status_code::ok;
  std::string message_;
};

} // namespace troupe::gpu
