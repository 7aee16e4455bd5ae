#include "uiscsi/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "uiscsi/errors.hpp"

namespace uiscsi {
namespace {

Result<int> half(int x) {
  if (x % 2) return errc::invalid_argument;
  return x / 2;
}

Result<int> quarter(int x) {
  UISCSI_TRY(int h, half(x));
  return half(h);
}

Result<void> check(bool good) {
  if (!good) return errc::timed_out;
  return ok();
}

TEST(Result, ValueAndError) {
  auto r = half(8);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4);
  auto e = half(3);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), errc::invalid_argument);
  EXPECT_EQ(e.value_or(-1), -1);
}

TEST(Result, TryPropagates) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_EQ(quarter(6).error(), errc::invalid_argument);
}

TEST(Result, VoidAndMoveOnly) {
  EXPECT_TRUE(check(true));
  EXPECT_EQ(check(false).error(), errc::timed_out);
  Result<std::unique_ptr<int>> p = std::make_unique<int>(7);
  ASSERT_TRUE(p);
  std::unique_ptr<int> taken = std::move(p).value();
  EXPECT_EQ(*taken, 7);
}

TEST(Errors, MessagesAreReadable) {
  EXPECT_EQ(make_error_code(errc::timed_out).message(), "timed out");
  EXPECT_EQ(std::error_code(protocol_errc::header_digest_mismatch).message(),
            "header digest (CRC32C) mismatch");
  const auto login = make_login_error(2, 1);
  EXPECT_EQ(login.message(),
            "login rejected: authentication failure (status class 2, detail 0x01)");
  EXPECT_EQ(login_status_class(login), 2);
  EXPECT_EQ(login_status_detail(login), 1);
  EXPECT_TRUE(login == std::errc::permission_denied);
  EXPECT_EQ(make_login_error(3, 1).message(),
            "login rejected: service unavailable (status class 3, detail 0x01)");
}

}  // namespace
}  // namespace uiscsi
