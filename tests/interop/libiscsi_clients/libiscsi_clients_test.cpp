// libiscsi's command-line clients (Debian's libiscsi-bin) against uiscsi-target's server, run
// in this process on free loopback ports: iscsi-ls, iscsi-inq (standard data and VPD pages),
// iscsi-readcapacity16 and iscsi-perf, with no authentication, with CHAP (one-way and mutual)
// and with header digests required. Each check reads the tool's output, not only its exit code.
//
// libiscsi negotiates DataDigest=None only, so the digest target requires CRC32C header digests
// (the only HeaderDigest value it offers) and leaves data digests to the initiator's choice.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "interop/support.hpp"
#include "target/server.hpp"

namespace uiscsi {
namespace {

using testing::run;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:libiscsi-disk";
constexpr const char* kChap = "iqn.2026-11.dev.uiscsi:libiscsi-chap";
constexpr const char* kMutual = "iqn.2026-11.dev.uiscsi:libiscsi-mutual";
constexpr const char* kDigest = "iqn.2026-11.dev.uiscsi:libiscsi-digest";
constexpr const char* kChapUser = "libiscsi-user";
constexpr const char* kChapSecret = "libiscsi-secret-01";
constexpr const char* kTargetUser = "uiscsi-target";
constexpr const char* kTargetSecret = "target-secret-0002";
constexpr std::uint64_t kLunBytes = 64ull << 20;

// The number after `label` in `text` (e.g. "iops average 1234"), or -1.
long long number_after(const std::string& text, const std::string& label) {
  const auto at = text.rfind(label);
  if (at == std::string::npos) return -1;
  std::size_t i = at + label.size();
  while (i < text.size() && text[i] == ' ')
    ++i;
  long long v = -1;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
    v = (v < 0 ? 0 : v * 10) + (text[i] - '0');
  return v;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class LibiscsiClients : public ::testing::Test {
 protected:
  static inline std::unique_ptr<target::TargetServer> server;
  static inline std::unique_ptr<target::TargetServer> digest_server;
  static inline std::string portal, digest_portal;

  static target::TargetEntry disk(const char* name) {
    target::TargetEntry t;
    t.name = name;
    t.alias = "libiscsi-test";
    target::LunConfig l;  // a RAM disk, LUN 0
    l.size_bytes = kLunBytes;
    t.luns.push_back(l);
    return t;
  }

  static void SetUpTestSuite() {
    target::ServerConfig c;
    c.portals = {{"127.0.0.1", 0}};
    c.targets.push_back(disk(kDisk));
    auto chap = disk(kChap);
    chap.chap_required = true;
    chap.chap_users[kChapUser] = Secret(kChapSecret);
    c.targets.push_back(chap);
    auto mutual = disk(kMutual);
    mutual.chap_required = true;
    mutual.chap_users[kChapUser] = Secret(kChapSecret);
    mutual.mutual = core::ChapCredentials{kTargetUser, Secret(kTargetSecret), false, {}, {}};
    c.targets.push_back(mutual);
    auto s = target::TargetServer::start(c);
    ASSERT_TRUE(s) << s.error().message();
    server = std::move(*s);
    portal = server->endpoints()[0].to_string();

    // Header digests required: CRC32C is the only value we accept.
    target::ServerConfig d;
    d.portals = {{"127.0.0.1", 0}};
    d.targets.push_back(disk(kDigest));
    d.engine.negotiation.header_digest = {"CRC32C"};
    d.engine.negotiation.data_digest = {"CRC32C", "None"};
    auto ds = target::TargetServer::start(d);
    ASSERT_TRUE(ds) << ds.error().message();
    digest_server = std::move(*ds);
    digest_portal = digest_server->endpoints()[0].to_string();
  }
  static void TearDownTestSuite() {
    server.reset();
    digest_server.reset();
  }
  void SetUp() override {
    if (!testing::have_program("iscsi-inq") || !testing::have_program("iscsi-perf"))
      GTEST_SKIP() << "libiscsi-bin not installed (scripts/setup.sh installs it)";
    ASSERT_TRUE(server && digest_server);
  }
  void TearDown() override {
    // Every client logged out or dropped its connection: nothing stays open on the server.
    for (int i = 0; i < 200 && server && server->stats().connections_open != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (server) {
      EXPECT_EQ(server->stats().connections_open, 0u);
    }
  }

  static std::string url(const std::string& where, const char* target,
                         const std::string& creds = "", const std::string& query = "") {
    return "iscsi://" + creds + where + "/" + target + "/0" + query;
  }
  // Runs a libiscsi tool (stderr joined to stdout), bounded in time.
  static int tool(const std::string& args, std::string* out) {
    return run("timeout 30 " + args + " 2>&1", out);
  }
};

TEST_F(LibiscsiClients, IscsiLsDiscoversEveryTargetAndItsLun) {
  // With credentials, iscsi-ls logs in to every target it discovered, CHAP ones included.
  std::string out;
  const std::string creds = std::string(kChapUser) + "%" + kChapSecret + "@";
  ASSERT_EQ(tool("iscsi-ls -s iscsi://" + creds + portal, &out), 0) << out;
  for (const char* t : {kDisk, kChap, kMutual}) {
    EXPECT_TRUE(contains(out, std::string("Target:") + t + " Portal:" + portal + ",1")) << t << "\n"
                                                                                        << out;
  }
  // One RAM LUN per target, LUN 0, a disk.
  const std::regex lun(R"(Lun:0\s+Type:DIRECT_ACCESS \(Size:\d+M\))");
  std::ptrdiff_t luns =
      std::distance(std::sregex_iterator(out.begin(), out.end(), lun), std::sregex_iterator());
  EXPECT_EQ(luns, 3) << out;
}

TEST_F(LibiscsiClients, IscsiLsDiscoveryNeedsNoCredentials) {
  // SendTargets in a discovery session without CHAP lists every target. (With -s and no
  // credentials, iscsi-ls stops at the first target that needs CHAP: libiscsi's choice.)
  std::string out;
  ASSERT_EQ(tool("iscsi-ls iscsi://" + portal, &out), 0) << out;
  for (const char* t : {kDisk, kChap, kMutual})
    EXPECT_TRUE(contains(out, std::string("Target:") + t + " Portal:" + portal + ",1")) << t << "\n"
                                                                                        << out;
}

TEST_F(LibiscsiClients, IscsiInqStandardData) {
  std::string out;
  ASSERT_EQ(tool("iscsi-inq " + url(portal, kDisk), &out), 0) << out;
  EXPECT_TRUE(contains(out, "Peripheral Qualifier:CONNECTED")) << out;
  EXPECT_TRUE(contains(out, "Peripheral Device Type:DIRECT_ACCESS")) << out;
  EXPECT_TRUE(contains(out, "Removable:0")) << out;
  EXPECT_TRUE(contains(out, "ReponseDataFormat:2")) << out;  // sic, libiscsi's spelling
  EXPECT_TRUE(contains(out, "CmdQue:1")) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(Vendor:UISCSI\s*\n)"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(Product:RAMDISK\s*\n)"))) << out;
  EXPECT_TRUE(contains(out, "Revision:0001")) << out;
  // Version descriptors: iSCSI, SPC-4, SBC-3.
  EXPECT_TRUE(contains(out, "0960 iSCSI")) << out;
  EXPECT_TRUE(contains(out, "0460 SPC-4")) << out;
  EXPECT_TRUE(contains(out, "04c0 SBC-3")) << out;
}

TEST_F(LibiscsiClients, IscsiInqVpdPages) {
  std::string out;
  // Page codes go in decimal: 0 supported pages, 128 serial, 131 device identification,
  // 176 block limits, 177 block device characteristics, 178 logical block provisioning.
  ASSERT_EQ(tool("iscsi-inq -e 1 -c 0 " + url(portal, kDisk), &out), 0) << out;
  for (const char* page :
       {"Page:0x00 SUPPORTED_VPD_PAGES", "Page:0x80 UNIT_SERIAL_NUMBER",
        "Page:0x83 DEVICE_IDENTIFICATION", "Page:0xb0 BLOCK_LIMITS",
        "Page:0xb1 BLOCK_DEVICE_CHARACTERISTICS", "Page:0xb2 LOGICAL_BLOCK_PROVISIONING"})
    EXPECT_TRUE(contains(out, page)) << page << "\n" << out;

  ASSERT_EQ(tool("iscsi-inq -e 1 -c 128 " + url(portal, kDisk), &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(Unit Serial Number:\[([ -~]+)\])"))) << out;
  const std::string serial = m[1];
  EXPECT_FALSE(serial.empty());

  ASSERT_EQ(tool("iscsi-inq -e 1 -c 131 " + url(portal, kDisk), &out), 0) << out;
  EXPECT_TRUE(contains(out, "Page Code:(0x83) DEVICE_IDENTIFICATION")) << out;
  EXPECT_TRUE(contains(out, "Designator Type:(3) NAA")) << out;
  EXPECT_TRUE(contains(out, "Designator Type:(4) RELATIVE_TARGET_PORT")) << out;
  // The T10 vendor ID designator: vendor (8), product (16), then the same serial number.
  EXPECT_TRUE(contains(out, "Designator:[UISCSI  RAMDISK         " + serial + "]")) << out;

  for (const char* page : {"176", "177", "178"}) {
    ASSERT_EQ(tool(std::string("iscsi-inq -e 1 -c ") + page + " " + url(portal, kDisk), &out), 0)
        << page << "\n"
        << out;
    EXPECT_FALSE(contains(out, "failed")) << out;
  }
  // An unsupported page fails with a CHECK CONDITION, and the session stays usable.
  EXPECT_NE(tool("iscsi-inq -e 1 -c 193 " + url(portal, kDisk), &out), 0) << out;
}

TEST_F(LibiscsiClients, IscsiReadCapacity16) {
  std::string out;
  ASSERT_EQ(tool("iscsi-readcapacity16 " + url(portal, kDisk), &out), 0) << out;
  EXPECT_EQ(number_after(out, "RETURNED LOGICAL BLOCK ADDRESS:"),
            static_cast<long long>(kLunBytes / 512 - 1))
      << out;
  EXPECT_EQ(number_after(out, "LOGICAL BLOCK LENGTH IN BYTES:"), 512) << out;
  EXPECT_EQ(number_after(out, "Total size:"), static_cast<long long>(kLunBytes)) << out;
  EXPECT_TRUE(contains(out, "LBPME:1")) << out;  // thin provisioning: UNMAP offered
}

TEST_F(LibiscsiClients, IscsiPerfReadsSmallAndLargeBlocks) {
  // -b counts 512-byte blocks: 4 KiB random reads at queue depth 8, then 256 KiB sequential
  // reads at queue depth 4, two seconds each.
  for (const char* args : {"-t 2 -m 8 -b 8 -r", "-t 2 -m 4 -b 512"}) {
    std::string out;
    ASSERT_EQ(tool(std::string("iscsi-perf ") + args + " " + url(portal, kDisk), &out), 0)
        << args << "\n"
        << out;
    EXPECT_TRUE(contains(out, "capacity is " + std::to_string(kLunBytes / 512) + " blocks")) << out;
    EXPECT_GT(number_after(out, "iops average"), 0) << args << "\n" << out;
    EXPECT_TRUE(contains(out, "finished.")) << out;
  }
}

TEST_F(LibiscsiClients, ChapLoginAndWrongSecret) {
  std::string out;
  const std::string good = std::string(kChapUser) + "%" + kChapSecret + "@";
  ASSERT_EQ(tool("iscsi-inq " + url(portal, kChap, good), &out), 0) << out;
  EXPECT_TRUE(contains(out, "Product:RAMDISK")) << out;
  ASSERT_EQ(tool("iscsi-readcapacity16 " + url(portal, kChap, good), &out), 0) << out;
  EXPECT_EQ(number_after(out, "Total size:"), static_cast<long long>(kLunBytes)) << out;

  const std::string bad = std::string(kChapUser) + "%not-the-secret-000@";
  EXPECT_NE(tool("iscsi-inq " + url(portal, kChap, bad), &out), 0) << out;
  EXPECT_FALSE(contains(out, "Product:")) << out;
  EXPECT_NE(tool("iscsi-inq " + url(portal, kChap), &out), 0) << out;
  EXPECT_FALSE(contains(out, "Product:")) << out;
}

TEST_F(LibiscsiClients, CredentialsOnATargetWithoutChap) {
  // libiscsi offers AuthMethod=CHAP,None; we choose None, and libiscsi then declares
  // InitiatorName and SessionType again in its operational-stage request (same values).
  std::string out;
  const std::string creds = std::string(kChapUser) + "%" + kChapSecret + "@";
  ASSERT_EQ(tool("iscsi-inq " + url(portal, kDisk, creds), &out), 0) << out;
  EXPECT_TRUE(contains(out, "Product:RAMDISK")) << out;
  ASSERT_EQ(tool("iscsi-ls -s iscsi://" + creds + portal, &out), 0) << out;
  EXPECT_TRUE(contains(out, std::string("Target:") + kDisk)) << out;
}

TEST_F(LibiscsiClients, MutualChap) {
  std::string out;
  const std::string creds = std::string(kChapUser) + "%" + kChapSecret + "@";
  const std::string ok_target =
      std::string("?target_user=") + kTargetUser + "&target_password=" + kTargetSecret;
  ASSERT_EQ(tool("iscsi-inq '" + url(portal, kMutual, creds, ok_target) + "'", &out), 0) << out;
  EXPECT_TRUE(contains(out, "Product:RAMDISK")) << out;
  // The initiator expects another target secret: it must refuse our proof.
  const std::string wrong_target =
      std::string("?target_user=") + kTargetUser + "&target_password=some-other-secret";
  EXPECT_NE(tool("iscsi-inq '" + url(portal, kMutual, creds, wrong_target) + "'", &out), 0) << out;
  EXPECT_FALSE(contains(out, "Product:")) << out;
}

TEST_F(LibiscsiClients, HeaderDigestsRequired) {
  std::string out;
  const std::string crc = "?header_digest=crc32c";
  ASSERT_EQ(tool("iscsi-inq '" + url(digest_portal, kDigest, "", crc) + "'", &out), 0) << out;
  EXPECT_TRUE(contains(out, "Product:RAMDISK")) << out;
  ASSERT_EQ(tool("iscsi-readcapacity16 '" + url(digest_portal, kDigest, "", crc) + "'", &out), 0)
      << out;
  EXPECT_EQ(number_after(out, "Total size:"), static_cast<long long>(kLunBytes)) << out;
  ASSERT_EQ(tool("iscsi-perf -t 1 -m 4 -b 64 '" + url(digest_portal, kDigest, "", crc) + "'", &out),
            0)
      << out;
  EXPECT_GT(number_after(out, "iops average"), 0) << out;
  // Only CRC32C was offered for HeaderDigest, so every login here ran with header digests
  // (libiscsi 1.19 offers "None,CRC32C" whatever its URL says, so it cannot be made to refuse).
  EXPECT_EQ(digest_server->stats().logins_failed, 0u);
  EXPECT_GE(digest_server->stats().connections_accepted, 3u);
}

}  // namespace
}  // namespace uiscsi
