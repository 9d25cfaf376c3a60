// SIGINT and SIGTERM sent to a real emitlab process in the middle of a run:
// the world stops at its next event, every output is flushed and closed whole (the trace ends
// with a complete line, the capture with a complete packet, the key log is written), the
// summary of what ran is printed marked interrupted, and the exit status is 130 or 143.
//
// No sleeps: the trace goes to a named pipe, so the child can run only as far as this test
// reads. The signal is sent once the first pass has been traced (the world is mid-run, and
// with 100,000 requests it cannot get near the end), and the test then reads to end of file.
#define BOOST_TEST_MODULE cli_signals
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  BOOST_TEST_REQUIRE(rc == 0);
  return pid;
}

// Whether `bytes` is a nanosecond pcap file made of whole records.
bool whole_pcap(const std::string& bytes, std::uint64_t& packets) {
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(bytes[at + i]);
    return v;
  };
  if (bytes.size() < 24 || u32(0) != 0xa1b23c4d) return false;
  std::size_t at = 24;
  packets = 0;
  while (at + 16 <= bytes.size()) {
    at += 16 + u32(at + 8);
    ++packets;
  }
  return at == bytes.size();
}

void interrupt_a_run(int sig, int expected_status) {
  const fs::path dir = fs::temp_directory_path() /
                       ("emitlab-signals-" + std::to_string(getpid()) + "-" + std::to_string(sig));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path fifo = dir / "trace.fifo";
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const pid_t pid =
      spawn({EMITLAB_CLI, "run", "--connections", "4", "--concurrency", "8", "--requests", "100000",
             "--body", "3000", "--strategy", "gather", "--trace", fifo.string(), "--pcap",
             (dir / "run.pcap").string(), "--keylog", (dir / "keys.log").string()},
            dir / "out.txt", dir / "err.txt");
  const int fd = open(fifo.c_str(), O_RDONLY);  // returns once the child has opened it
  BOOST_TEST_REQUIRE(fd >= 0);
  std::string trace;
  bool signalled = false;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
    trace.append(buf, static_cast<std::size_t>(n));
    if (!signalled && trace.find("\"ev\":\"pass_end\"") != std::string::npos) {
      BOOST_TEST_REQUIRE(kill(pid, sig) == 0);
      signalled = true;
    }
  }
  close(fd);
  int status = 0;
  BOOST_TEST_REQUIRE(waitpid(pid, &status, 0) == pid);
  BOOST_TEST_REQUIRE(signalled);
  BOOST_TEST_REQUIRE(WIFEXITED(status), "killed by signal " << WTERMSIG(status));
  BOOST_TEST(WEXITSTATUS(status) == expected_status);

  const std::string out = slurp(dir / "out.txt");
  BOOST_TEST(out.find("INTERRUPTED: interrupted after") != std::string::npos, out);
  BOOST_TEST(out.find("delivery\n") != std::string::npos, out);  // the tables of what ran
  BOOST_TEST(out.find(" verified") != std::string::npos, out);
  BOOST_TEST(slurp(dir / "err.txt").empty(), slurp(dir / "err.txt"));
  // The trace ends with a complete line and every line is JSON.
  BOOST_TEST_REQUIRE(!trace.empty());
  BOOST_TEST(trace.back() == '\n');
  std::istringstream lines(trace);
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    BOOST_TEST_REQUIRE(nlohmann::json::accept(line), "line " << n << ": " << line);
  }
  // The capture is whole records, and the key log holds complete lines.
  std::uint64_t packets = 0;
  BOOST_TEST(whole_pcap(slurp(dir / "run.pcap"), packets));
  BOOST_TEST(packets > 12U);  // past the four TCP handshakes
  const std::string keys = slurp(dir / "keys.log");
  BOOST_TEST(keys.find("SERVER_TRAFFIC_SECRET_0") != std::string::npos);
  BOOST_TEST(keys.back() == '\n');
  fs::remove_all(dir);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigint_stops_the_run_closes_every_output_and_exits_130) {
  interrupt_a_run(SIGINT, 130);
}

BOOST_AUTO_TEST_CASE(sigterm_stops_the_run_closes_every_output_and_exits_143) {
  interrupt_a_run(SIGTERM, 143);
}
