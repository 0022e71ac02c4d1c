// A double-ended FIFO over one growable power-of-two buffer, for the engine's rolling windows.
//
// Why not std::deque: libstdc++'s deque allocates a 512-byte block and a map as soon as it is
// constructed, even empty. The engine keeps several windows per rule per symbol, most of which
// stay empty (a rule that does not apply to a symbol), so 5,000 symbols times a dozen rules
// paid hundreds of megabytes of page faults for nothing. A ring allocates on its first push and
// then only when it doubles. Not thread-safe (the engine is single-threaded).
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <utility>

namespace aftershock::rules {

template <typename T>
class ring {
 public:
  ring() = default;
  ring(const ring& other) { *this = other; }
  ring& operator=(const ring& other) {
    if (this == &other) return *this;
    clear();
    for (std::size_t i = 0; i < other.size_; ++i) push_back(other[i]);
    return *this;
  }
  ring(ring&& other) noexcept { swap(other); }
  ring& operator=(ring&& other) noexcept {
    swap(other);
    return *this;
  }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_[(head_ + i) & mask_]; }
  const T& operator[](std::size_t i) const noexcept { return data_[(head_ + i) & mask_]; }
  T& front() noexcept { return (*this)[0]; }
  const T& front() const noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }
  const T& back() const noexcept { return (*this)[size_ - 1]; }

  /// Starts loading the newest element and the slot the next push_back writes (a cache
  /// hint: where the engine's windows change on every print).
  void prefetch_back() const noexcept {
    if (!data_) return;
    __builtin_prefetch(&data_[(head_ + size_) & mask_]);
    __builtin_prefetch(&data_[(head_ + size_ - 1) & mask_]);
  }

  [[gnu::always_inline]] void push_back(const T& v) {
    if (size_ == capacity_) [[unlikely]] grow();
    data_[(head_ + size_) & mask_] = v;
    ++size_;
  }
  /// Makes room for at least n elements (a power of two at least 8) in one allocation.
  void reserve(std::size_t n) {
    std::size_t capacity = capacity_ ? capacity_ : 8;
    while (capacity < n) capacity *= 2;
    if (capacity != capacity_) resize_buffer(capacity);
  }
  void pop_front() noexcept {
    assert(size_ > 0);
    head_ = (head_ + 1) & mask_;
    --size_;
  }
  void pop_back() noexcept {
    assert(size_ > 0);
    --size_;
  }
  /// Removes the element at position i, keeping the order of the others (O(size); rare).
  void erase(std::size_t i) {
    assert(i < size_);
    for (; i + 1 < size_; ++i) (*this)[i] = std::move((*this)[i + 1]);
    --size_;
  }
  void clear() noexcept {
    head_ = 0;
    size_ = 0;
  }
  void assign(std::size_t n, const T& v) {
    clear();
    for (std::size_t i = 0; i < n; ++i) push_back(v);
  }

 private:
  void swap(ring& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(capacity_, o.capacity_);
    std::swap(mask_, o.mask_);
    std::swap(head_, o.head_);
    std::swap(size_, o.size_);
  }
  // Out of line: the push_back fast path stays small enough to inline.
  [[gnu::noinline]] void grow() { resize_buffer(capacity_ ? capacity_ * 2 : 8); }
  void resize_buffer(std::size_t capacity) {
    std::unique_ptr<T[]> data(new T[capacity]);
    for (std::size_t i = 0; i < size_; ++i) data[i] = std::move((*this)[i]);
    data_ = std::move(data);
    capacity_ = capacity;
    mask_ = capacity - 1;
    head_ = 0;
  }

  std::unique_ptr<T[]> data_;
  std::size_t capacity_ = 0;
  std::size_t mask_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace aftershock::rules
