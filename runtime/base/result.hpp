#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace troupe::base {

/// A value of type T, or the error E that says why there is none. The
/// libraries return these for expected failures (a missing or corrupt file,
/// a bad argument) instead of throwing, so that no exception crosses into an
/// actor; actors turn them into replies.
/// Invariants: holds exactly one of a T and an E. T and E differ.
template <class T, class E>
class result {
  static_assert(!std::is_same_v<T, E>, "result needs distinct T and E");

public:
  /// A successful result holding `value`.
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {
  }

  /// A failed result holding `error`.
  result(E error) : data_(std::in_place_index<1>, std::move(error)) {
  }

  /// True when a value is held.
  bool ok() const noexcept {
    return data_.index() == 0;
  }

  /// ok().
  explicit operator bool() const noexcept {
    return ok();
  }

  /// The value. Precondition: ok().
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }

  /// The value, moved out. Precondition: ok().
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }

  /// The error. Precondition: !ok().
  const E& error() const& {
    assert(!ok());
    return std::get<1>(data_);
  }

  /// The error, moved out. Precondition: !ok().
  E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(data_));
  }

private:
  std::variant<T, E> data_;
};

} // namespace troupe::base
