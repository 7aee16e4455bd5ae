// One header of every opcode with distinctive, non-default field values, for round-trip,
// truncation and corruption tests and fuzz seeds.
#pragma once

#include <vector>

#include "core/pdu.hpp"

namespace uiscsi::testing {

inline std::vector<core::Header> sample_headers() {
  using namespace core;
  const Lun lun = *Lun::from_number(3);
  std::vector<Header> v;
  v.push_back(NopOut{true, lun, Itt(0x11), Ttt(0x22), SerialNumber(5), SerialNumber(6)});
  ScsiCommand cmd;
  cmd.immediate = false;
  cmd.final = false;
  cmd.read = true;
  cmd.write = true;
  cmd.attr = TaskAttribute::ordered;
  cmd.lun = lun;
  cmd.itt = Itt(0x1234);
  cmd.expected_data_transfer_length = 65536;
  cmd.cmd_sn = SerialNumber(0xfffffffe);
  cmd.exp_stat_sn = SerialNumber(77);
  for (std::size_t i = 0; i < 16; ++i)
    cmd.cdb[i] = static_cast<std::byte>(0x28 + i);
  v.push_back(cmd);
  v.push_back(TaskMgmtRequest{true, TmfFunction::task_reassign, lun, Itt(9), Itt(0x1234),
                              SerialNumber(10), SerialNumber(11), SerialNumber(8),
                              SerialNumber(3)});
  LoginRequest login;
  login.transit = true;
  login.cont = false;
  login.csg = LoginStage::operational_negotiation;
  login.nsg = LoginStage::full_feature_phase;
  login.version_max = 0;
  login.version_min = 0;
  login.isid = 0x80123456789aull;
  login.tsih = 0x0102;
  login.itt = Itt(1);
  login.cid = 7;
  login.cmd_sn = SerialNumber(1);
  login.exp_stat_sn = SerialNumber(2);
  v.push_back(login);
  v.push_back(
      TextRequest{false, false, true, lun, Itt(4), Ttt(0x99), SerialNumber(12), SerialNumber(13)});
  v.push_back(DataOut{true, lun, Itt(0x1234), Ttt(0x55), SerialNumber(14), 2, 16384});
  v.push_back(LogoutRequest{false, LogoutReason::remove_connection_for_recovery, Itt(5), 3,
                            SerialNumber(15), SerialNumber(16)});
  v.push_back(SnackRequest{SnackType::rdata, lun, Itt(0x1234), Ttt(0x77), SerialNumber(17), 4, 2});
  v.push_back(
      NopIn{lun, Itt(0xffffffff), Ttt(0x66), SerialNumber(18), SerialNumber(19), SerialNumber(50)});
  ScsiResponse rsp;
  rsp.bidi_read_overflow = true;
  rsp.bidi_read_underflow = false;
  rsp.overflow = false;
  rsp.underflow = true;
  rsp.response = IscsiResponse::target_failure;
  rsp.status = 0x02;
  rsp.itt = Itt(0x1234);
  rsp.snack_tag = 0x31;
  rsp.stat_sn = SerialNumber(20);
  rsp.exp_cmd_sn = SerialNumber(21);
  rsp.max_cmd_sn = SerialNumber(52);
  rsp.exp_data_sn = 6;
  rsp.bidi_read_residual_count = 100;
  rsp.residual_count = 512;
  v.push_back(rsp);
  v.push_back(TaskMgmtResponse{TmfResponse::task_does_not_exist, Itt(9), SerialNumber(22),
                               SerialNumber(23), SerialNumber(54)});
  LoginResponse lr;
  lr.transit = true;
  lr.cont = true;
  lr.csg = LoginStage::security_negotiation;
  lr.nsg = LoginStage::operational_negotiation;
  lr.version_max = 0;
  lr.version_active = 0;
  lr.isid = 0x80123456789aull;
  lr.tsih = 0x0a0b;
  lr.itt = Itt(1);
  lr.stat_sn = SerialNumber(24);
  lr.exp_cmd_sn = SerialNumber(25);
  lr.max_cmd_sn = SerialNumber(56);
  lr.status_class = 2;
  lr.status_detail = 1;
  v.push_back(lr);
  v.push_back(TextResponse{false, true, lun, Itt(4), Ttt(0x98), SerialNumber(26), SerialNumber(27),
                           SerialNumber(58)});
  DataIn din;
  din.final = true;
  din.acknowledge = true;
  din.overflow = false;
  din.underflow = true;
  din.status_present = true;
  din.status = 0x00;
  din.lun = lun;
  din.itt = Itt(0x1234);
  din.ttt = Ttt(0x44);
  din.stat_sn = SerialNumber(28);
  din.exp_cmd_sn = SerialNumber(29);
  din.max_cmd_sn = SerialNumber(60);
  din.data_sn = 3;
  din.buffer_offset = 24576;
  din.residual_count = 4096;
  v.push_back(din);
  v.push_back(LogoutResponse{LogoutResponseCode::cleanup_failed, Itt(5), SerialNumber(30),
                             SerialNumber(31), SerialNumber(62), 2, 20});
  v.push_back(R2t{lun, Itt(0x1234), Ttt(0x45), SerialNumber(32), SerialNumber(33), SerialNumber(64),
                  1, 8192, 65536});
  v.push_back(AsyncMessage{lun, SerialNumber(34), SerialNumber(35), SerialNumber(66),
                           AsyncEvent::logout_request, 0, 0, 2, 5});
  v.push_back(Reject{RejectReason::invalid_pdu_field, SerialNumber(36), SerialNumber(37),
                     SerialNumber(68), 9});
  return v;
}

}  // namespace uiscsi::testing
