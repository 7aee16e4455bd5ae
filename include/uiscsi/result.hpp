// Result<T>: a value or a std::error_code. The library's only error channel.
//
// libstdc++ 12 offers std::expected only under -std=c++23 and clang 14 (the fuzz compiler) cannot
// use it at all, so uiscsi ships this small class shaped like std::expected. Libraries never
// throw across the API: every fallible call returns Result<T>, and callers test it with
// `if (!r)`, read `r.error()` on failure and `*r` / `r.value()` on success.
//
// Thread safety: a Result is a plain value; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "uiscsi/export.hpp"

namespace uiscsi {

// Wraps an error for construction of a Result, like std::unexpected:
//   return Unexpected(errc::timed_out);
class UISCSI_API Unexpected {
 public:
  explicit Unexpected(std::error_code ec) : ec_(ec) {}
  template <class E>
  requires std::is_error_code_enum_v<E>
  explicit Unexpected(E e) : ec_(make_error_code(e)) {}
  [[nodiscard]] std::error_code error() const { return ec_; }

 private:
  std::error_code ec_;
};

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, std::error_code>,
                "Result<std::error_code> is ambiguous");

 public:
  using value_type = T;

  // A default-constructed Result holds a value-initialised T (only when T allows it).
  Result() requires std::is_default_constructible_v<T> : storage_(std::in_place_index<0>) {}
  Result(const T& v) : storage_(std::in_place_index<0>, v) {}        // NOLINT: implicit on purpose
  Result(T&& v) : storage_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Unexpected> &&
           !std::is_same_v<std::decay_t<U>, std::error_code> &&
           !std::is_error_code_enum_v<std::decay_t<U>> && !std::is_same_v<std::decay_t<U>, Result>)
      Result(U&& v)
      : storage_(std::in_place_index<0>, std::forward<U>(v)) {}          // NOLINT
  Result(Unexpected u) : storage_(std::in_place_index<1>, u.error()) {}  // NOLINT
  Result(std::error_code ec) : storage_(std::in_place_index<1>, ec) {    // NOLINT
    assert(ec && "a Result error must be a failure code");
  }
  template <class E>
  requires std::is_error_code_enum_v<E> Result(E e) : Result(make_error_code(e)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // Precondition: has_value().
  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->checked(); }
  T&& operator*() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }

  // The error on failure; a default (success) error_code when a value is held.
  [[nodiscard]] std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(storage_);
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  T& checked() {
    assert(has_value() && "Result::value() on an error");
    return *std::get_if<0>(&storage_);
  }
  std::variant<T, std::error_code> storage_;
};

// Result<void>: success, or an error code.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  Result() = default;
  Result(Unexpected u) : ec_(u.error()) {}  // NOLINT
  Result(std::error_code ec) : ec_(ec) {}   // NOLINT
  template <class E>
  requires std::is_error_code_enum_v<E> Result(E e) : ec_(make_error_code(e)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return !ec_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const { assert(has_value()); }
  [[nodiscard]] std::error_code error() const noexcept { return ec_; }

 private:
  std::error_code ec_;
};

// Convenience for success in Result<void> functions: `return ok();`
inline Result<void> ok() {
  return {};
}

}  // namespace uiscsi

// Propagate an error from an expression returning Result<...>. Usage:
//   UISCSI_TRY(auto v, parse(x));   or   UISCSI_TRY_VOID(write(x));
#define UISCSI_CONCAT_INNER(a, b) a##b
#define UISCSI_CONCAT(a, b) UISCSI_CONCAT_INNER(a, b)
#define UISCSI_TRY_IMPL(tmp, decl, expr)              \
  auto tmp = (expr);                                  \
  if (!tmp) return ::uiscsi::Unexpected(tmp.error()); \
  decl = std::move(*tmp)
#define UISCSI_TRY(decl, expr) UISCSI_TRY_IMPL(UISCSI_CONCAT(uiscsi_try_, __LINE__), decl, expr)
#define UISCSI_TRY_VOID(expr)                                                     \
  do {                                                                            \
    auto uiscsi_try_void_ = (expr);                                               \
    if (!uiscsi_try_void_) return ::uiscsi::Unexpected(uiscsi_try_void_.error()); \
  } while (0)
