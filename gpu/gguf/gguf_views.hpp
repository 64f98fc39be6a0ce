#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string_view>
#include <type_traits>
#include <vector>

// GGUF stores numbers little-endian at any byte offset; the views below read
// them with memcpy, which is only a plain load on a little-endian host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the GGUF reader assumes a little-endian host");

namespace troupe::gpu {

/// A zero-copy view of `size` numbers of type T stored little-endian and
/// possibly unaligned (a numeric array inside a mapped GGUF file).
/// Elements are read with memcpy, so the view never makes an unaligned load.
/// Invariants: data points at size * sizeof(T) readable bytes; the view does
/// not own them and is valid while the gguf_file it came from lives.
template <class T>
class gguf_numbers {
public:
  /// Iterates by value (elements are decoded on each access). Points into
  /// the file, not into the view, so it outlives the view object.
  class iterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = T;

    iterator(const unsigned char* data, size_t i) : data_(data), i_(i) {
    }
    T operator*() const {
      return gguf_numbers(data_, i_ + 1)[i_];
    }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& other) const {
      return i_ == other.i_;
    }
    bool operator!=(const iterator& other) const {
      return i_ != other.i_;
    }

  private:
    const unsigned char* data_;
    size_t i_;
  };

  gguf_numbers() = default;

  /// A view of `size` elements at `data`. Precondition: the bytes exist.
  gguf_numbers(const unsigned char* data, size_t size)
    : data_(data), size_(size) {
  }

  size_t size() const noexcept {
    return size_;
  }

  bool empty() const noexcept {
    return size_ == 0;
  }

  /// Element `i`. Precondition: i < size().
  T operator[](size_t i) const {
    if constexpr (std::is_same_v<T, bool>) {
      return data_[i] != 0; // a bool byte that is not 0 or 1 is not a bool
    } else {
      T out;
      std::memcpy(&out, data_ + i * sizeof(T), sizeof(T));
      return out;
    }
  }

  iterator begin() const {
    return {data_, 0};
  }

  iterator end() const {
    return {data_, size_};
  }

  /// A copy of every element; for small arrays (hyperparameter lists).
  std::vector<T> to_vector() const {
    std::vector<T> out;
    out.reserve(size_);
    for (size_t i = 0; i < size_; ++i)
      out.push_back((*this)[i]);
    return out;
  }

private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

/// A zero-copy view of a string array: each element points into the mapped
/// file. Valid while the gguf_file it came from lives.
/// Invariants: items is never null (it may be empty).
class gguf_string_list {
public:
  gguf_string_list();
  explicit gguf_string_list(const std::vector<std::string_view>& items)
    : items_(&items) {
  }

  size_t size() const noexcept {
    return items_->size();
  }

  bool empty() const noexcept {
    return items_->empty();
  }

  /// Element `i`. Precondition: i < size().
  std::string_view operator[](size_t i) const {
    return (*items_)[i];
  }

  std::vector<std::string_view>::const_iterator begin() const {
    return items_->begin();
  }

  std::vector<std::string_view>::const_iterator end() const {
    return items_->end();
  }

  const std::vector<std::string_view>& items() const noexcept {
    return *items_;
  }

private:
  const std::vector<std::string_view>* items_;
};

} // namespace troupe::gpu
