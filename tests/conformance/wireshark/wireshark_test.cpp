// Wire validation with Wireshark's iSCSI dissector (issue 10): representative sessions between
// libuiscsi and uiscsi-target on loopback are captured twice, by a raw capture of the loopback
// interface (dumpcap, when this user may capture) and by our own pcap writer (PcapWriter on the
// session's PDU hook), and each capture is decoded with
//   tshark -r FILE -d tcp.port==PORT,iscsi -V -z expert,warn
// The test fails on any malformed packet and on any expert message of severity warning or error
// that expert_allow.txt does not list with a reason. The sessions: discovery (SendTargets), a
// CHAP login, reads and writes solicited by R2T, header and data digests, a Data SNACK at error
// recovery level 1 (the target loses one Data-In), task management and logout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "interop/support.hpp"
#include "support/pattern.hpp"
#include "target/server.hpp"
#include "uiscsi/pcap.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:wire-disk";
constexpr const char* kChap = "iqn.2026-11.dev.uiscsi:wire-chap";

// A dumpcap process capturing TCP to `port` on lo into `file`; stop() ends it.
class RawCapture {
 public:
  RawCapture(const fs::path& file, int port, const fs::path& log) : file_(file) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string filter = "tcp port " + std::to_string(port);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execlp("dumpcap", "dumpcap", "-i", "lo", "-f", filter.c_str(), "-P", "-w", file.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready when dumpcap says it is capturing (at most 10 s).
    for (int i = 0; i < 200 && pid_ > 0; ++i) {
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find("Capturing on") != std::string::npos) {
        ready_ = true;
        break;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  ~RawCapture() { stop(); }
  [[nodiscard]] bool ready() const { return ready_; }
  // Ends the capture. dumpcap takes packets from the kernel's capture ring a block at a time
  // (a block is handed over when full or after libpcap's read timeout, 250 ms), and on SIGTERM
  // it drops the block still being filled: so first wait until the file has not grown for 1 s
  // (at most 8 s). Then SIGTERM; waits at most 5 s, then kills it.
  void stop() {
    if (pid_ <= 0) return;
    std::uintmax_t last = 0;
    for (int quiet = 0, i = 0; quiet < 20 && i < 160; ++i) {
      std::error_code ec;
      const auto size = fs::file_size(file_, ec);
      quiet = (!ec && size == last) ? quiet + 1 : 0;
      last = ec ? 0 : size;
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  fs::path file_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

struct AllowEntry {
  std::string protocol, summary, reason;
};

std::vector<AllowEntry> load_allow_list() {
  std::vector<AllowEntry> out;
  std::ifstream in(UISCSI_EXPERT_ALLOW_LIST);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find('|');
    const auto b = line.find('|', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

// What tshark made of a capture.
struct Dissection {
  std::vector<std::string> problems;  // malformed packets, bad digests, unexplained expert messages
  std::set<std::string> opcodes;      // iSCSI opcode names decoded ("SNACK Request", ...)
  int good_digests = 0;               // header and data digests tshark checked and found good
};

Dissection dissect(const fs::path& file, int port) {
  Dissection d;
  const std::string base = "tshark -n -r '" + file.string() +
                           "' -d tcp.port==" + std::to_string(port) +
                           ",iscsi -o tcp.desegment_tcp_streams:TRUE";
  std::string verbose;
  const int rc = testing::run(base + " -V 2>&1", &verbose);
  if (rc != 0) d.problems.push_back("tshark -V exited with " + std::to_string(rc));
  std::istringstream v(verbose);
  std::string line;
  while (std::getline(v, line)) {
    if (line.find("Malformed") != std::string::npos) d.problems.push_back("malformed: " + line);
    if (line.find("Digest:") != std::string::npos) {
      if (line.find("(Good CRC32)") != std::string::npos) {
        ++d.good_digests;
      } else {
        d.problems.push_back("digest: " + line);
      }
    }
    // "    ..01 0000 = Opcode: SNACK Request (0x10)"
    if (const auto at = line.find("= Opcode: "); at != std::string::npos)
      d.opcodes.insert(line.substr(at + 10, line.rfind(" (") - at - 10));
  }
  // "-z expert,warn": the expert table from warnings up, rows
  //   <count>  <group>  <protocol>  <summary>
  // under "Errors (n)" and "Warns (n)" headings (each underlined with "====").
  std::string expert;
  testing::run(base + " -q -z expert,warn 2>&1", &expert);
  const auto allow = load_allow_list();
  std::istringstream e(expert);
  bool in_table = false;
  while (std::getline(e, line)) {
    if (line.rfind("Errors (", 0) == 0 || line.rfind("Warns (", 0) == 0) {
      in_table = true;
      continue;
    }
    if (line.rfind("Notes (", 0) == 0 || line.rfind("Chats (", 0) == 0 ||
        line.rfind("Comments (", 0) == 0)
      in_table = false;
    if (!in_table || line.find_first_not_of(" =") == std::string::npos) continue;
    if (line.find("Frequency") != std::string::npos) continue;
    bool allowed = false;
    for (const auto& a : allow)
      if (line.find(a.protocol) != std::string::npos && line.find(a.summary) != std::string::npos)
        allowed = true;
    if (!allowed) d.problems.push_back("expert: " + line);
  }
  return d;
}

class Wireshark : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_program("tshark")) GTEST_SKIP() << "tshark is not installed";
    dir_ = testing::temp_dir("wireshark");
    ASSERT_FALSE(dir_.empty());
  }
  // UISCSI_KEEP_CAPTURES=1 keeps the capture files (their folder is printed) for a look.
  void TearDown() override {
    if (std::getenv("UISCSI_KEEP_CAPTURES") != nullptr) {
      std::printf("captures kept in %s\n", dir_.c_str());
      return;
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // The target: a plain disk and a CHAP disk, digests offered, error recovery level 1, and on its
  // first connection one lost Data-In (the 3rd PDU it sends in full feature phase).
  std::unique_ptr<target::TargetServer> start_target(int port) {
    target::ServerConfig c;
    c.portals = {{"127.0.0.1", static_cast<std::uint16_t>(port)}};
    auto disk = [](const char* name) {
      target::TargetEntry t;
      t.name = name;
      target::LunConfig l;
      l.size_bytes = 8ull << 20;
      t.luns.push_back(l);
      return t;
    };
    c.targets.push_back(disk(kDisk));
    auto chap = disk(kChap);
    chap.chap_required = true;
    chap.chap_users["wire-user"] = Secret("wire-secret-00001");
    c.targets.push_back(chap);
    c.engine.negotiation.header_digest = {"CRC32C", "None"};
    c.engine.negotiation.data_digest = {"CRC32C", "None"};
    c.engine.negotiation.error_recovery_level = 1;
    c.engine.negotiation.first_burst_length = 8192;
    c.engine.negotiation.max_recv_data_segment_length = 8192;
    c.engine.faults.lose_pdu = 3;
    c.engine.faults.faulty_connections = 1;
    auto s = target::TargetServer::start(c);
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }

  SessionOptions options(const char* pcap_name) {
    SessionOptions o;
    o.login_timeout = 5s;
    o.keepalive_interval = 0ms;
    o.initial_r2t = true;  // writes go by R2T
    o.immediate_data = false;
    o.max_recv_data_segment_length = 8192;
    PcapWriter::Options po;
    po.target_port = kPcapPort;
    auto w = PcapWriter::open((dir_ / pcap_name).string(), po);
    EXPECT_TRUE(w);
    if (w) o.hooks.on_pdu = (*w)->hook();
    return o;
  }

  // The sessions: ERL 1 with a lost Data-In (SNACK), discovery, CHAP with digests, R2T writes,
  // reads, a TMF and logout.
  void run_sessions(const std::string& portal) {
    {
      SessionOptions o = options("erl1.pcap");
      o.error_recovery_level = 1;
      o.recovery_probe_interval = 200ms;
      auto s = Session::dial("iscsi://" + portal + "/" + kDisk + "/0", o);
      ASSERT_TRUE(s) << s.error().message();
      std::vector<std::byte> buf(32768);
      // The first command's answer after the UNIT ATTENTION round: the Data-In lost is in here.
      for (int i = 0; i < 3; ++i) {
        auto r = s->run(Lun(), Command(*scsi::read16(0, 64, 512)).read_into(buf));
        ASSERT_TRUE(r) << r.error().message();
        if (r->ok()) break;
      }
      EXPECT_GE(s->recovery_stats().data_r2t_snacks + s->recovery_stats().status_snacks, 1u);
      EXPECT_TRUE(s->logout());
    }
    {
      auto found = discover(portal, options("discovery.pcap"));
      ASSERT_TRUE(found) << found.error().message();
      EXPECT_EQ(found->size(), 2u);
    }
    {
      SessionOptions o = options("chap_digests.pcap");
      o.chap = ChapOptions{"wire-user", Secret("wire-secret-00001"), {}, {}, {8, 7, 6, 5}};
      o.header_digest = DigestPolicy::require;
      o.data_digest = DigestPolicy::require;
      auto s = Session::dial("iscsi://" + portal + "/" + kChap + "/0", o);
      ASSERT_TRUE(s) << s.error().message();
      for (int i = 0; i < 3; ++i) {
        auto t = s->run(Lun(), Command(scsi::test_unit_ready()));
        ASSERT_TRUE(t);
        if (t->ok()) break;
      }
      const auto data = testing::pattern(65536, 3);
      auto w = s->run(Lun(), Command(*scsi::write16(8, 128, 512)).write_from(data));
      ASSERT_TRUE(w && w->ok());
      std::vector<std::byte> back(65536);
      auto r = s->run(Lun(), Command(*scsi::read16(8, 128, 512)).read_into(back));
      ASSERT_TRUE(r && r->ok());
      EXPECT_EQ(back, data);
      auto tmf = s->lun_reset(Lun());
      ASSERT_TRUE(tmf) << tmf.error().message();
      EXPECT_TRUE(s->logout());
    }
  }

  static constexpr std::uint16_t kPcapPort = 3260;
  fs::path dir_;
};

TEST(WiresharkAllowList, EveryEntryHasAReason) {
  for (const auto& a : load_allow_list()) {
    EXPECT_FALSE(a.protocol.empty());
    EXPECT_FALSE(a.summary.empty());
    EXPECT_GE(a.reason.size(), 10u) << a.summary;
  }
}

TEST_F(Wireshark, RawLoopbackCaptureDissectsCleanly) {
  const int port = testing::free_port();
  std::string dumpcap_ok;
  if (!testing::have_program("dumpcap") ||
      testing::run("dumpcap -D 2>&1 | grep -q '\\blo\\b'", &dumpcap_ok) != 0)
    GTEST_SKIP() << "dumpcap cannot list the loopback interface (no capture rights)";
  RawCapture capture(dir_ / "raw.pcapng", port, dir_ / "dumpcap.log");
  if (!capture.ready()) GTEST_SKIP() << "dumpcap cannot capture on lo (no capture rights)";
  auto server = start_target(port);
  ASSERT_NE(server, nullptr);
  run_sessions("127.0.0.1:" + std::to_string(port));
  server.reset();
  capture.stop();
  const auto d = dissect(dir_ / "raw.pcapng", port);
  for (const auto& p : d.problems)
    ADD_FAILURE() << p;
  // The capture holds what it is meant to show, and tshark checked the digests on the wire.
  for (const char* op : {"Login Command", "Login Response", "Text Command", "Text Response",
                         "SCSI Command", "SCSI Data Out", "SCSI Data In", "SCSI Response",
                         "Ready To Transfer", "SNACK Request", "Task Management Function",
                         "Task Management Function Response", "Logout Command", "Logout Response"})
    EXPECT_TRUE(d.opcodes.count(op)) << "no " << op << " decoded";
  EXPECT_GE(d.good_digests, 10);
}

TEST_F(Wireshark, PcapWriterCaptureDissectsCleanly) {
  const int port = testing::free_port();
  auto server = start_target(port);
  ASSERT_NE(server, nullptr);
  run_sessions("127.0.0.1:" + std::to_string(port));
  server.reset();
  for (const char* f : {"erl1.pcap", "discovery.pcap", "chap_digests.pcap"}) {
    const auto d = dissect(dir_ / f, kPcapPort);
    for (const auto& p : d.problems)
      ADD_FAILURE() << f << ": " << p;
    EXPECT_TRUE(d.opcodes.count("Login Command")) << f;
    EXPECT_TRUE(d.opcodes.count("Logout Response")) << f;
  }
}

}  // namespace
}  // namespace uiscsi
