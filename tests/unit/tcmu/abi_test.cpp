// Our ABI definitions against the kernel's uapi header, when the build host has it
// (abi_kernel.c measures the kernel's structs; the header is C only).
#include "uiscsi/tcmu/abi.hpp"

#include <gtest/gtest.h>

extern "C" const int uiscsi_kernel_tcmu_present;
extern "C" const std::size_t uiscsi_kernel_tcmu_layout[21];

namespace uiscsi::tcmu {
namespace {

TEST(TcmuAbi, MatchesTheKernelHeader) {
  if (uiscsi_kernel_tcmu_present == 0) GTEST_SKIP() << "linux/target_core_user.h not installed";
  const std::size_t ours[21] = {
      abi::kMailboxVersion,
      abi::kCapOutOfOrder,
      abi::kCapReadLen,
      abi::kCapTmr,
      offsetof(abi::Mailbox, cmdr_off),
      offsetof(abi::Mailbox, cmd_head),
      offsetof(abi::Mailbox, cmd_tail),
      abi::kMinCmdEntry,
      offsetof(abi::CmdRequest, iov_cnt),
      offsetof(abi::CmdRequest, iov_bidi_cnt),
      offsetof(abi::CmdRequest, cdb_off),
      abi::kIovOffset,
      offsetof(abi::CmdResponse, scsi_status),
      offsetof(abi::CmdResponse, read_len),
      offsetof(abi::CmdResponse, sense),
      abi::kTmrIdsOffset,
      offsetof(abi::TmrEntry, cmd_cnt),
      abi::kSenseSize,
      abi::kUflagReadLen,
      abi::kOpAlign,
      static_cast<std::size_t>(abi::TmrType::lun_reset),
  };
  for (std::size_t i = 0; i < 21; ++i)
    EXPECT_EQ(ours[i], uiscsi_kernel_tcmu_layout[i]) << i;
}

}  // namespace
}  // namespace uiscsi::tcmu
