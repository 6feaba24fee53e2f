// Expected<T, E>: a value or an error, for calls whose failure the caller must handle (C++17 has no
// std::expected). The class is [[nodiscard]], so ignoring a result is a compiler warning. E must have a
// `message` member; value() on an error throws std::runtime_error(message), a programming error.
#pragma once

#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>

namespace sg::crypto {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
[[nodiscard]] Unexpected<E> unexpected(E error) {
  return {std::move(error)};
}

template <class T, class E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(v_); }

 private:
  void check() const {
    if (!has_value()) throw std::runtime_error(error().message);
  }
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  Expected(Unexpected<E> u) : error_(std::move(u.error)) {}

  bool has_value() const { return !error_; }
  explicit operator bool() const { return has_value(); }
  void value() const {
    if (error_) throw std::runtime_error(error_->message);
  }
  const E& error() const { return *error_; }

 private:
  std::optional<E> error_;
};

}  // namespace sg::crypto
