// Writes the harnesses' seed corpora from recorded runs (fuzz/make_corpus.sh calls it):
//   readers/  scenarios in canonical form, replay tokens of small world runs, the named scopes
//   h2/       fixture parameters + what a real nghttp2 client session sent (preface, SETTINGS,
//             requests, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY)
//   tls/      fixture parameters + that client's TLS records after the deterministic handshake,
//             recorded from the live fixture (so the server decrypts them)
// Usage: emitlab_fuzz_seeds DIR
#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/nghttp2_handles.h"
#include "fuzz/live_server.h"
#include "sim/replay.h"
#include "sim/scenario.h"
#include "sim/scope.h"
#include "sim/world.h"

namespace {

namespace fs = std::filesystem;
namespace sim = emitlab::sim;

bool write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) std::fprintf(stderr, "emitlab_fuzz_seeds: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

struct ClientScript {
  int requests;
  int extra_headers;
  bool ping;
  bool reset_first;
  bool goaway;
};

// What a real nghttp2 client session sends for the script, in order.
std::string client_bytes(const ClientScript& script) {
  std::string out;
  nghttp2_session_callbacks* raw_cbs = nullptr;
  nghttp2_session_callbacks_new(&raw_cbs);
  emitlab::NgCallbacksPtr cbs{raw_cbs};
  nghttp2_session_callbacks_set_send_callback(
      cbs.get(),
      [](nghttp2_session*, const std::uint8_t* data, std::size_t len, int, void* user) -> ssize_t {
        static_cast<std::string*>(user)->append(reinterpret_cast<const char*>(data), len);
        return static_cast<ssize_t>(len);
      });
  nghttp2_session* raw = nullptr;
  nghttp2_session_client_new(&raw, cbs.get(), &out);
  emitlab::NgSessionPtr session{raw};
  nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, nullptr, 0);
  std::vector<std::int32_t> ids;
  for (int i = 0; i < script.requests; ++i) {
    const std::string path = "/r/" + std::to_string(i);
    std::vector<std::string> names, values;
    for (int h = 0; h < script.extra_headers; ++h) {
      names.push_back("x-extra-" + std::to_string(h));
      values.push_back(std::string(static_cast<std::size_t>(8 + h), 'v'));
    }
    std::vector<nghttp2_nv> nva;
    const auto nv = [&nva](const std::string& n, const std::string& v) {
      nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                     reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(),
                     v.size(), NGHTTP2_NV_FLAG_NONE});
    };
    const std::string m = ":method", get = "GET", sch = ":scheme", https = "https",
                      au = ":authority", host = "emitlab.test", pa = ":path";
    nv(m, get);
    nv(sch, https);
    nv(au, host);
    nv(pa, path);
    for (std::size_t h = 0; h < names.size(); ++h) nv(names[h], values[h]);
    ids.push_back(nghttp2_submit_request(raw, nullptr, nva.data(), nva.size(), nullptr, nullptr));
    nghttp2_session_send(raw);  // the strings above die with this iteration
  }
  if (script.ping) nghttp2_submit_ping(raw, NGHTTP2_FLAG_NONE, nullptr);
  nghttp2_submit_window_update(raw, NGHTTP2_FLAG_NONE, 0, 1 << 20);
  if (script.reset_first && !ids.empty()) {
    nghttp2_submit_rst_stream(raw, NGHTTP2_FLAG_NONE, ids.front(), NGHTTP2_CANCEL);
  }
  if (script.goaway) nghttp2_submit_goaway(raw, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  nghttp2_session_send(raw);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: emitlab_fuzz_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  for (const char* sub : {"readers", "h2", "tls"}) fs::create_directories(dir / sub);
  bool ok = true;

  // Readers: scenarios, tokens of the runs they make, scopes.
  const std::vector<std::string> scenarios = {
      "{}",
      R"({"strategy":"gather+A1+A2+A3","workload":{"connections":2,"requests":6,"body":[0,20000],)"
      R"("kinds":{"buffered":2,"streaming":1,"head":1,"empty":1,"shared":1},"trailers_permille":300}})",
      R"({"strategy":"hybrid","workload":{"requests":4,"body":65536},"link":{"completions":"mixed"},)"
      R"("peer":{"window":"stingy","ping_permille":50,"reset_permille":20}})",
  };
  int n = 0;
  for (const auto& text : scenarios) {
    const auto parsed = sim::parse_scenario(text);
    if (!parsed.scenario) {
      std::fprintf(stderr, "emitlab_fuzz_seeds: %s\n", parsed.error.c_str());
      return 1;
    }
    ok &= write(dir / "readers" / ("scenario-" + std::to_string(n) + ".json"),
                sim::canonical_json(*parsed.scenario));
    sim::RunOptions o;
    o.keep_history = false;
    ok &= write(dir / "readers" / ("token-" + std::to_string(n) + ".txt"),
                sim::encode(sim::token_of(sim::run_world(*parsed.scenario, o))));
    ++n;
  }
  for (const auto& scope : sim::named_scopes()) {
    std::string hold;
    for (const auto d : scope.hold) {
      hold += (hold.empty() ? "\"" : ",\"") + std::string(sim::to_string(d)) + "\"";
    }
    ok &= write(dir / "readers" / ("scope-" + scope.name + ".json"),
                R"({"name":")" + scope.name + R"(","bound":)" + std::to_string(scope.bound) +
                    R"(,"hold":[)" + hold + R"(],"scenario":)" +
                    sim::canonical_json(scope.scenario, -1) + "}");
  }

  // h2 and TLS: each script under a few fixture parameter sets (strategy, completions, rings,
  // body: the six bytes LiveParams::draw reads).
  const std::vector<ClientScript> scripts = {
      {1, 0, false, false, false}, {5, 2, true, false, false}, {20, 0, false, true, true}};
  std::vector<std::string> params = {
      std::string("\x00\x00\x00\x03\x00\x03", 6),  // drain, async, 64 KiB ring, 3-byte body
      std::string("\x01\x01\x01\x00\x40\x00", 6),  // gather, sync, one-record ring, 16 KiB
      std::string("\x07\x00\x02\x02\xff\xff", 6),  // gather+A1+A2+A3, two records, 65535 B
      std::string("\x09\x01\x00\x01\x00\x64", 6),  // hybrid+A1+A2+A3, sync, 100 B
  };
  // Every strategy of the harness's list once (a bad entry fails here, not only under fuzzing).
  for (std::size_t i = 0; i < emitlab::fuzz::LiveParams::kStrategyCount; ++i) {
    params.push_back(std::string{static_cast<char>(i), 0, 0, 3, 0, 100});
  }
  int k = 0;
  for (const auto& script : scripts) {
    const std::string h2 = client_bytes(script);
    for (const auto& p : params) {
      const std::string name = std::to_string(k++) + ".bin";
      ok &= write(dir / "h2" / name, p + h2);
      std::span<const std::uint8_t> in(reinterpret_cast<const std::uint8_t*>(p.data()), p.size());
      emitlab::fuzz::LiveServer server(emitlab::fuzz::LiveParams::draw(in));
      if (!server.handshake()) return 1;
      server.record_client(true);
      server.send_plaintext({reinterpret_cast<const std::uint8_t*>(h2.data()), h2.size()});
      server.check();
      // The recording is of a working exchange: the server answered every request.
      if (server.responses() != static_cast<std::size_t>(script.requests)) {
        std::fprintf(stderr, "emitlab_fuzz_seeds: %zu responses to %d requests\n",
                     server.responses(), script.requests);
        return 1;
      }
      const auto& rec = server.client_records();
      ok &= write(dir / "tls" / name, p + std::string(rec.begin(), rec.end()));
    }
  }
  return ok ? 0 : 1;
}
