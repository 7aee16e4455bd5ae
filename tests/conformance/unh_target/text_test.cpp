// UNH-IOL target full feature phase, group 17: Text Request and Response (RFC 7143 sections
// 6.2, 11.10, 11.11, 13.12, Appendix C) in discovery and normal sessions, and Logout in a
// discovery session (11.14). Our target engine against a scripted initiator, in memory.
#include "conformance/kit/target_kit.hpp"

namespace uiscsi::core {
namespace {

using testing::kit::DiscoveryInitiator;
using testing::kit::ScriptedInitiator;
using testing::kit::text_answers;
using testing::kit::value_of;

// Opens a normal session with MaxRecvDataSegmentLength 512 (ours).
void open(ScriptedInitiator& h) {
  ASSERT_TRUE(h.open());
  ASSERT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{512, 512, 512, 512}));
}

// 17.1.1: discovery, SendTargets=All with F=0: the answer echoes the ITT, has F=0 and a real
// TTT, and fits our MaxRecvDataSegmentLength; the follow-up with that TTT and F=1 closes it.
TEST(UnhTargetFfp, Target_FFP_17_1_1_SendTargetsWithF0) {
  DiscoveryInitiator d;
  ASSERT_TRUE(d.login("512"));
  const auto first = text_answers(d.text({{"SendTargets", "All"}}, false, Itt(0x31)));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].header.itt, Itt(0x31));
  EXPECT_FALSE(first[0].header.final);
  EXPECT_FALSE(first[0].header.ttt.is_reserved());
  EXPECT_LE(first[0].bytes, 512u);
  const auto last = text_answers(d.text({}, true, Itt(0x31), first[0].header.ttt));
  ASSERT_EQ(last.size(), 1u);
  EXPECT_TRUE(last[0].header.final);
  EXPECT_TRUE(last[0].header.ttt.is_reserved());
}

// 17.1.2: normal session, MaxRecvDataSegmentLength=1024 with F=0: F=0 and a real TTT first;
// the F=1 follow-up gets F=1 with TTT 0xffffffff; Data-In then stays within 1024 bytes.
TEST(UnhTargetFfp, Target_FFP_17_1_2_TextNegotiationInNormalSession) {
  ScriptedInitiator h;
  open(h);
  const auto first = text_answers(h.text({{"MaxRecvDataSegmentLength", "1024"}}, false, Itt(0x41)));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].header.itt, Itt(0x41));
  EXPECT_FALSE(first[0].header.final);
  EXPECT_FALSE(first[0].header.ttt.is_reserved());
  const auto last = text_answers(h.text({}, true, Itt(0x41), first[0].header.ttt));
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].header.itt, Itt(0x41));
  EXPECT_TRUE(last[0].header.final);
  EXPECT_TRUE(last[0].header.ttt.is_reserved());
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{1024, 1024}));
}

// 17.2.1: discovery, a request with F=0 (SendTargets=All) is not answered with F=1.
TEST(UnhTargetFfp, Target_FFP_17_2_1_NoEarlyFInDiscovery) {
  DiscoveryInitiator d;
  ASSERT_TRUE(d.login());
  const auto a = text_answers(d.text({{"SendTargets", "All"}}, false, Itt(0x32)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].header.final) << "F=1 in answer to F=0 (RFC 7143 section 11.11.1)";
}

// 17.2.2: normal session, a request with F=0 carrying MaxRecvDataSegmentLength is not answered
// with F=1.
TEST(UnhTargetFfp, Target_FFP_17_2_2_NoEarlyFInNormalSession) {
  ScriptedInitiator h;
  open(h);
  const auto a = text_answers(h.text({{"MaxRecvDataSegmentLength", "2048"}}, false, Itt(0x42)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].header.final) << "F=1 in answer to F=0 (RFC 7143 section 11.11.1)";
}

// 17.3.1: discovery, SendTargets=All lists our target by its real name, with an address.
TEST(UnhTargetFfp, Target_FFP_17_3_1_SendTargetsAllInDiscovery) {
  DiscoveryInitiator d;
  ASSERT_TRUE(d.login());
  const auto a = text_answers(d.text({{"SendTargets", "All"}}, true, Itt(0x33)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].header.final);
  EXPECT_EQ(value_of(a[0].keys, "TargetName"), d.directory.target);
  EXPECT_NE(value_of(a[0].keys, "TargetName"), "iSCSI");
  EXPECT_TRUE(value_of(a[0].keys, "TargetAddress").has_value());
}

// 17.3.3: normal session, SendTargets=All is answered SendTargets=Reject ("All" MUST NOT be
// supported in a normal session, RFC 7143 Appendix C; Reject per section 6.2), lists no target,
// and the session goes on carrying commands.
TEST(UnhTargetFfp, Target_FFP_17_3_3_SendTargetsAllInNormalSession) {
  ScriptedInitiator h;
  open(h);
  const auto a = text_answers(h.text({{"SendTargets", "All"}}, true, Itt(0x46)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].header.itt, Itt(0x46));
  EXPECT_TRUE(a[0].header.final);
  EXPECT_EQ(value_of(a[0].keys, "SendTargets"), "Reject");
  EXPECT_FALSE(value_of(a[0].keys, "TargetName").has_value());
  EXPECT_FALSE(value_of(a[0].keys, "TargetAddress").has_value());
  EXPECT_FALSE(h.closed());
  EXPECT_EQ(h.read_segment_sizes(2), (std::vector<std::size_t>{512, 512}));
}

// 17.3.4: normal session, SendTargets= (empty) is answered with the session's TargetName.
TEST(UnhTargetFfp, Target_FFP_17_3_4_SendTargetsInNormalSession) {
  ScriptedInitiator h;
  open(h);
  const auto a = text_answers(h.text({{"SendTargets", ""}}, true, Itt(0x43)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].header.final);
  EXPECT_EQ(value_of(a[0].keys, "TargetName"), h.directory.target);
}

// 17.3.5: discovery, SendTargets=<name> lists that target only; another name lists nothing.
TEST(UnhTargetFfp, Target_FFP_17_3_5_SendTargetsNameInDiscovery) {
  DiscoveryInitiator d;
  ASSERT_TRUE(d.login());
  const auto a = text_answers(d.text({{"SendTargets", d.directory.target}}, true, Itt(0x34)));
  ASSERT_EQ(a.size(), 1u);
  std::size_t names = 0;
  for (const auto& kv : a[0].keys)
    if (kv.key == "TargetName") {
      ++names;
      EXPECT_EQ(kv.value, d.directory.target);
    }
  EXPECT_EQ(names, 1u);
  const auto b =
      text_answers(d.text({{"SendTargets", "iqn.2026-11.dev.uiscsi:nobody"}}, true, Itt(0x35)));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_FALSE(value_of(b[0].keys, "TargetName").has_value());
}

// 17.4.2: discovery, Logout reason 2 (remove the connection for recovery) gets response 2
// (recovery not supported: a discovery session runs at ErrorRecoveryLevel 0).
TEST(UnhTargetFfp, Target_FFP_17_4_2_BadLogoutReasonInDiscovery) {
  DiscoveryInitiator d;
  ASSERT_TRUE(d.login());
  const auto out = d.logout(LogoutReason::remove_connection_for_recovery, Itt(0x36));
  const auto rsp = testing::only<LogoutResponse>(out);
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].itt, Itt(0x36));
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::recovery_not_supported);
}

// 17.5: a continuation that arrives with a new ITT: a Reject, if the target sends one, carries
// the rejected header; the connection stays usable.
TEST(UnhTargetFfp, Target_FFP_17_5_WrongITTInContinuedText) {
  ScriptedInitiator h;
  open(h);
  const auto first = text_answers(h.text({{"MaxRecvDataSegmentLength", "1024"}}, false, Itt(0x44)));
  ASSERT_EQ(first.size(), 1u);
  const TextRequest r = testing::kit::text_request(true, false, Itt(0x45), first[0].header.ttt,
                                                   h.cmd_sn, h.exp_stat_sn);
  h.send(Header{r});
  const auto out = h.receive_tracked();
  for (const auto& p : out)
    if (p.as<Reject>() != nullptr) {
      ASSERT_GE(p.data.size(), kBhsSize) << "a Reject without the rejected header";
      Bhs sent;
      encode_header(Header{r}, sent);
      EXPECT_TRUE(std::equal(p.data.begin(), p.data.begin() + 20, sent.bytes.begin()));
    } else if (const auto* t = p.as<TextResponse>()) {
      EXPECT_EQ(t->itt, Itt(0x45));
    }
  EXPECT_FALSE(h.closed());
  EXPECT_FALSE(h.read_segment_sizes(2).empty()) << "the connection no longer carries commands";
}

// 17.6: a key negotiated twice in one exchange (MaxRecvDataSegmentLength=512 again in the
// second request) is Rejected with reason 0x04 (protocol error); a fresh exchange (TTT
// 0xffffffff) then works, F=1 closes it and Data-In uses its MaxRecvDataSegmentLength.
TEST(UnhTargetFfp, Target_FFP_17_6_KeyNegotiatedTwice) {
  ScriptedInitiator h;
  open(h);
  const auto first = text_answers(h.text({{"MaxRecvDataSegmentLength", "512"}}, false, Itt(0x50)));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_FALSE(first[0].header.ttt.is_reserved());
  const auto again =
      h.text({{"MaxRecvDataSegmentLength", "512"}}, false, Itt(0x50), first[0].header.ttt);
  const auto rejects = testing::only<Reject>(again);
  ASSERT_EQ(rejects.size(), 1u) << "the repeated key was not Rejected";
  EXPECT_EQ(rejects[0].reason, RejectReason::protocol_error);
  const auto fresh = text_answers(h.text({{"MaxRecvDataSegmentLength", "1024"}}, true, Itt(0x51)));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_TRUE(fresh[0].header.final);
  EXPECT_TRUE(fresh[0].header.ttt.is_reserved());
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{1024, 1024}));
}

// 17.7.1: after an unfinished exchange (F=0 answered), a fresh request (new ITT, TTT
// 0xffffffff) renegotiates; F=1 closes it and the new MaxRecvDataSegmentLength governs Data-In.
TEST(UnhTargetFfp, Target_FFP_17_7_1_NegotiationReset) {
  ScriptedInitiator h;
  open(h);
  const auto first = text_answers(h.text({{"MaxRecvDataSegmentLength", "1024"}}, false, Itt(0x46)));
  ASSERT_EQ(first.size(), 1u);
  const auto fresh = text_answers(h.text({{"MaxRecvDataSegmentLength", "2048"}}, true, Itt(0x47)));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_TRUE(fresh[0].header.final);
  EXPECT_TRUE(fresh[0].header.ttt.is_reserved());
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{2048}));
}

// 17.7.2: the initiator stops halfway (F=0 answered, no follow-up): what the exchange offered is
// not in force, and a 4096-byte READ still uses the old MaxRecvDataSegmentLength (1024 here).
TEST(UnhTargetFfp, Target_FFP_17_7_2_AbandonedNegotiation) {
  ScriptedInitiator h;
  open(h);
  const auto set = text_answers(h.text({{"MaxRecvDataSegmentLength", "1024"}}, true, Itt(0x52)));
  ASSERT_EQ(set.size(), 1u);
  ASSERT_EQ(h.read_segment_sizes(8), (std::vector<std::size_t>{1024, 1024, 1024, 1024}));
  const auto half = text_answers(h.text({{"MaxRecvDataSegmentLength", "4096"}}, false, Itt(0x53)));
  ASSERT_EQ(half.size(), 1u);
  EXPECT_FALSE(half[0].header.final);
  EXPECT_EQ(h.read_segment_sizes(8), (std::vector<std::size_t>{1024, 1024, 1024, 1024}));
}

// 17.7.3: MaxRecvDataSegmentLength=511 (below the range 512..2^24-1 of section 13.12) is refused
// and never used; a later valid request is accepted and used.
TEST(UnhTargetFfp, Target_FFP_17_7_3_InvalidValueMRDSL511) {
  ScriptedInitiator h;
  open(h);
  const auto bad = h.text({{"MaxRecvDataSegmentLength", "511"}}, true, Itt(0x48));
  bool refused = !testing::only<Reject>(bad).empty();
  for (const auto& a : text_answers(bad))
    if (value_of(a.keys, "MaxRecvDataSegmentLength") == "Reject") refused = true;
  EXPECT_TRUE(refused) << "MaxRecvDataSegmentLength=511 accepted";
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{512, 512, 512, 512}));
  const auto good = text_answers(h.text({{"MaxRecvDataSegmentLength", "1024"}}, true, Itt(0x49)));
  ASSERT_EQ(good.size(), 1u);
  EXPECT_TRUE(good[0].header.final);
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{1024, 1024}));
}

// 17.8.1: a text split over two requests with the C bit: the first gets an (empty) answer with
// F=0 and a TTT, the second the answer; the unknown X- key is NotUnderstood.
TEST(UnhTargetFfp, Target_FFP_17_8_1_CBitContinuation) {
  ScriptedInitiator h;
  open(h);
  const auto text =
      serialize_text({{"X-org.example.unh", "1"}, {"MaxRecvDataSegmentLength", "1024"}});
  const std::size_t half = 10;  // inside the first key
  const auto first = text_answers(
      h.text_bytes(std::span(text).first(half), false, Itt(0x4a), Ttt::reserved(), true));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].header.final);
  EXPECT_FALSE(first[0].header.ttt.is_reserved());
  EXPECT_EQ(first[0].bytes, 0u);
  const auto second = text_answers(
      h.text_bytes(std::span(text).subspan(half), true, Itt(0x4a), first[0].header.ttt));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].header.final);
  EXPECT_EQ(value_of(second[0].keys, "X-org.example.unh"), "NotUnderstood");
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{1024, 1024}));
}

// 17.8.2: C=1 together with F=1 is an error; its MaxRecvDataSegmentLength must not change the
// Data-In sizes.
TEST(UnhTargetFfp, Target_FFP_17_8_2_CAndFBothSet) {
  ScriptedInitiator h;
  open(h);
  h.text({{"MaxRecvDataSegmentLength", "1024"}}, true, Itt(0x4b), Ttt::reserved(), true);
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{512, 512, 512, 512}));
}

// 17.8.3: MaxRecvDataSegmentLength spread over a C=1 request and a C=0/F=1 one is accepted and
// changes the Data-In sizes.
TEST(UnhTargetFfp, Target_FFP_17_8_3_ValidContinuedNegotiation) {
  ScriptedInitiator h;
  open(h);
  const auto text = serialize_text({{"MaxRecvDataSegmentLength", "2048"}});
  // "MaxRecvDataS" with C=1, then the rest with F=1.
  const auto first = text_answers(
      h.text_bytes(std::span(text).first(12), false, Itt(0x4c), Ttt::reserved(), true));
  ASSERT_EQ(first.size(), 1u);
  const auto second =
      text_answers(h.text_bytes(std::span(text).subspan(12), true, Itt(0x4c), first[0].header.ttt));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].header.final);
  EXPECT_EQ(h.read_segment_sizes(4), (std::vector<std::size_t>{2048}));
}

}  // namespace
}  // namespace uiscsi::core
