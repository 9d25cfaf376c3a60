// The counting allocator (sim/counting_allocator.h) and the OpenSSL hooks (sim/openssl_mem.h).
// This executable links emitlab_openssl_mem_autoinstall, so OpenSSL is hooked before main.
#define BOOST_TEST_MODULE counting_allocator
#include <boost/test/unit_test.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/gather_emitter.h"
#include "core/release_policy.h"
#include "core/response.h"
#include "core/server_connection.h"
#include "core/strategy.h"
#include "sim/body_pattern.h"
#include "sim/counting_allocator.h"
#include "sim/deterministic_tls.h"
#include "sim/openssl_mem.h"
#include "sim/sim_link.h"
#include "sim/sim_peer.h"
#include "sim/workload.h"

namespace emitlab::sim {
// Printers for Boost.Test's failure messages (found by argument-dependent lookup).
std::ostream& operator<<(std::ostream& os, const AllocCounts& c) {
  return os << "{allocs " << c.allocations << ", frees " << c.frees << ", bytes "
            << c.bytes_allocated << ", freed " << c.bytes_freed << ", live " << c.live_bytes
            << ", peak " << c.peak_live_bytes << "}";
}
std::ostream& operator<<(std::ostream& os, ViolationKind k) {
  return os << to_string(k);
}
}  // namespace emitlab::sim

namespace sim = emitlab::sim;
using emitlab::AllocOwner;
using emitlab::AllocSite;
using emitlab::AllocTag;
using sim::AllocCounts;
using sim::CountingAllocator;
using sim::ViolationKind;

namespace {

constexpr std::uint8_t kPoison = CountingAllocator::kPoisonByte;

AllocTag tag(AllocOwner owner, AllocSite site, std::uint64_t pass) {
  return {owner, site, pass};
}
AllocTag emitter(AllocSite site, std::uint64_t pass) {
  return {AllocOwner::Emitter, site, pass};
}

AllocCounts counts(std::uint64_t allocs, std::uint64_t frees, std::uint64_t bytes,
                   std::uint64_t freed, std::uint64_t live, std::uint64_t peak) {
  return {allocs, frees, bytes, freed, live, peak};
}

bool all_bytes(const void* p, std::size_t n, std::uint8_t value) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] != value) return false;
  }
  return true;
}

std::vector<ViolationKind> kinds(const CountingAllocator& c) {
  std::vector<ViolationKind> out;
  for (const auto& v : c.violations()) out.push_back(v.kind);
  return out;
}

// ---------------------------------------------------------------------------------------------
// A minimal counted world: one ServerConnection (allocator = counting.port(0), OpenSSL calls
// attributed to connection 0) against SimPeer over the simulated link (sim/sim_link.h),
// completions one step after submission.

struct Scenario {
  const char* strategy = "gather";
  std::uint32_t streams = 3;
  std::size_t body = 2000;
  std::uint64_t seed = 11;
  emitlab::EmitterFactory emitter_factory;  // empty: the strategy's own emitter
};

struct Outcome {
  std::string failure;  // how the connection failed; empty when every response came through
  std::size_t requested = 0;
  std::size_t verified = 0;  // the peer's count
  std::size_t failed = 0;    // streams not verified plus requests the peer never got to send
  std::vector<sim::StreamResult> streams;
  // The server itself knew (failed connection or construction, a refused submit); false when
  // only the peer or the driver's stall detection saw that something went wrong.
  bool server_noticed = false;
  std::vector<emitlab::PassRecord> passes;
  // Per owner, right after the ServerConnection was destroyed (TLS contexts still alive).
  std::array<AllocCounts, emitlab::kAllocOwners> after_server{};
};

class CountedWorld final : public emitlab::RequestHandler {
 public:
  // `tls` outlives the world; it is rewound to the scenario's seed first.
  CountedWorld(CountingAllocator& counting, const Scenario& scenario, sim::DeterministicTls& tls)
      : counting_(counting),
        scenario_(scenario),
        tls_((tls.reseed(scenario.seed), tls)),
        peer_(tls_.client_ctx(), peer_config(scenario)) {}

  Outcome run();

  // Bodies come from the counted port; a refused allocation throws into nghttp2's callback
  // guard, which fails the session. A refused submit would leave the stream hanging: the
  // handler gives it up with RST_STREAM and the run remembers it.
  void on_request(emitlab::ServerConnection& conn, emitlab::ServerStream& stream) override {
    const auto id = sim::Workload::request_id_from_path(stream.request);
    emitlab::ResponseObject::Spec spec;
    spec.headers = sim::expected_response(scenario_.seed, id.value_or(0), 0).headers;
    spec.body_size = scenario_.body;
    const std::uint64_t seed = scenario_.seed;
    const std::uint64_t rid = id.value_or(0);
    auto fill = [seed, rid](std::span<std::uint8_t> out) { sim::fill_body(seed, rid, 0, out); };
    emitlab::ResponseRef ref(emitlab::ResponseObject::create(counting_.port(0), spec, fill));
    if (conn.submit_response(stream.id, std::move(ref))) return;
    // The session kept nothing it can send: give the stream up, as a server would.
    if (refused_ == 0) refused_ = stream.id;
    conn.reset_stream(stream.id, NGHTTP2_INTERNAL_ERROR);
  }

 private:
  static sim::PeerConfig peer_config(const Scenario& s) {
    sim::PeerConfig c;
    c.requests = s.streams;
    c.batch = std::min<std::uint32_t>(s.streams, 100);
    c.expect = [s](std::uint64_t id) { return sim::expected_response(s.seed, id, s.body); };
    return c;
  }
  bool construct();
  bool step(bool& shutdown_sent);
  std::string describe(bool stalled) const;

  CountingAllocator& counting_;
  Scenario scenario_;
  sim::DeterministicTls& tls_;  // outlives every SSL below
  sim::SimPeer peer_;
  sim::SimLink link_;  // the simulated link, completed one step after each submission
  std::unique_ptr<emitlab::ServerConnection> conn_;
  std::int32_t refused_ = 0;
  std::string construction_error_;
};

bool CountedWorld::construct() {
  emitlab::ConnectionConfig config;
  config.strategy = *emitlab::parse_strategy(scenario_.strategy).spec;
  config.emitter_factory = scenario_.emitter_factory;
  sim::OpenSslAttribution scope(counting_, 0, 0);
  try {
    conn_ = std::make_unique<emitlab::ServerConnection>(tls_.server_ctx(), config, link_, *this,
                                                        counting_.port(0));
  } catch (const std::exception& e) {  // SSL_new, a BIO pair or nghttp2's session refused
    construction_error_ = std::string("construction failed: ") + e.what();
    return false;
  }
  return true;
}

// One driver step; false when nothing moved.
bool CountedWorld::step(bool& shutdown_sent) {
  bool progress = false;
  if (auto out = peer_.take_outbound(); !out.empty()) {
    sim::OpenSslAttribution scope(counting_, 0, 0);
    conn_->on_ciphertext(out);
    progress = true;
  }
  if (!link_.inflight().empty()) {
    const auto span = link_.take();
    peer_.on_wire(span);  // the peer's OpenSSL work is not the server's
    sim::OpenSslAttribution scope(counting_, 0, 0);
    conn_->on_write_complete(span.size());
    progress = true;
  }
  if (peer_.done() && !shutdown_sent && !conn_->failed()) {
    sim::OpenSslAttribution scope(counting_, 0, 0);
    conn_->shutdown();
    shutdown_sent = progress = true;
  }
  return progress;
}

std::string CountedWorld::describe(bool stalled) const {
  if (!construction_error_.empty()) return construction_error_;
  if (conn_->failed()) return "server connection failed: " + conn_->error();
  if (refused_ != 0) {
    return "submit_response refused: stream " + std::to_string(refused_) + " reset";
  }
  if (peer_.failed()) return "peer: " + peer_.failure();
  if (stalled) {
    return std::string("stalled before every response was delivered") +
           (peer_.goaway_received() ? " (after the server's GOAWAY)" : "");
  }
  return {};
}

Outcome CountedWorld::run() {
  Outcome o;
  o.requested = scenario_.streams;
  peer_.start();
  bool stalled = false;
  if (construct()) {
    bool shutdown_sent = false;
    for (int i = 0; i < 1'000'000; ++i) {
      const bool progress = step(shutdown_sent);
      if (conn_->failed()) break;
      if (!progress) {
        stalled = !peer_.done();
        break;
      }
    }
    o.passes = conn_->passes();
  }
  o.server_noticed = !construction_error_.empty() || conn_->failed() || refused_ != 0;
  o.failure = describe(stalled);
  {
    sim::OpenSslAttribution scope(counting_, 0, 0);
    conn_.reset();
  }
  for (std::size_t i = 0; i < emitlab::kAllocOwners; ++i) {
    o.after_server[i] = counting_.for_owner(0, static_cast<AllocOwner>(i));
  }
  o.verified = peer_.responses_verified();
  // Counted from the streams, not as a difference, so verified + failed == requested is a check.
  for (const auto& [id, s] : peer_.streams()) {
    o.streams.push_back(s);
    o.failed += s.verified ? 0 : 1;
  }
  o.failed += o.requested - std::min(o.requested, o.streams.size());  // never answered
  return o;
}

// Runs a scenario in a world on `tls`. The thread's OpenSSL state is released before and after,
// so the buffers OpenSSL keeps per thread (its error queue's, the DRBGs') are built and freed
// inside the run, the same way in every run. The ServerConnection and the peer are gone on
// return.
Outcome run_counted(CountingAllocator& counting, const Scenario& scenario,
                    sim::DeterministicTls& tls) {
  sim::release_openssl_thread_state();
  Outcome o = CountedWorld(counting, scenario, tls).run();
  sim::release_openssl_thread_state();
  return o;
}

// The same in fresh TLS contexts (built outside every scope, destroyed before returning): the
// OpenSSL caches the server fills in them are charged to the run and must be freed with them.
Outcome run_counted(CountingAllocator& counting, const Scenario& scenario) {
  sim::DeterministicTls tls(scenario.seed);
  return run_counted(counting, scenario, tls);
}

// Process-wide lazy initialisation (error strings, method stores, thread state) happens once,
// in a throwaway run, so that no measured run is charged for it or can break it for the rest
// of the process by failing inside a run-once initialiser.
void warm_up() {
  static const bool done = [] {
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr);
    CountingAllocator throwaway;
    return run_counted(throwaway, Scenario{"gather", 3, 2000, 11, {}}).failure.empty();
  }();
  BOOST_REQUIRE(done);
}

// Peer-side verification, independent of the run's verdict: every stream the peer counts as
// verified carries every byte of its expected body.
std::string delivery_error(const Outcome& o, const Scenario& s) {
  std::size_t verified = 0;
  for (const auto& st : o.streams) {
    if (!st.verified) continue;
    ++verified;
    const auto want = sim::expected_response(s.seed, st.request_id, s.body).body;
    if (st.body != want || !st.end_stream || st.reset) {
      return "stream " + std::to_string(st.stream_id) + " counted verified with wrong bytes";
    }
  }
  if (verified != o.verified) return "peer's verified count disagrees with its streams";
  if (o.verified + o.failed != o.requested) return "verified + failed != requested";
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Exact counts for a scripted sequence.

BOOST_AUTO_TEST_CASE(counts_are_exact_for_a_scripted_sequence) {
  CountingAllocator c;
  auto& p0 = c.port(0);
  auto& p1 = c.port(1);
  BOOST_TEST(&c.port(0) == &p0);  // stable reference

  void* a = p0.allocate(100, emitter(AllocSite::GatherList, 1));
  void* b = p0.allocate(50, emitter(AllocSite::RefList, 1));
  void* body = p0.allocate(1000, tag(AllocOwner::Response, AllocSite::GatherList, 0));
  void* ng = p1.allocate(30, tag(AllocOwner::Nghttp2, AllocSite::GatherList, 2));
  std::memset(b, 0x42, 50);
  p0.deallocate(a, emitter(AllocSite::GatherList, 1));
  void* b2 = p0.reallocate(b, 200, emitter(AllocSite::RefList, 2));  // +200 (pass 2), -50
  BOOST_TEST(all_bytes(b2, 50, 0x42));                               // contents moved
  BOOST_TEST(c.allocations_so_far() == 5u);

  BOOST_TEST(c.total() == counts(5, 2, 1380, 150, 1230, 1280));  // realloc: new before old
  BOOST_TEST(c.for_connection(0) == counts(4, 2, 1350, 150, 1200, 1250));
  BOOST_TEST(c.for_connection(1) == counts(1, 0, 30, 0, 30, 30));
  BOOST_TEST(c.for_owner(0, AllocOwner::Emitter) == counts(3, 2, 350, 150, 200, 250));
  BOOST_TEST(c.for_owner(0, AllocOwner::Response) == counts(1, 0, 1000, 0, 1000, 1000));
  BOOST_TEST(c.for_owner(1, AllocOwner::Nghttp2) == counts(1, 0, 30, 0, 30, 30));
  BOOST_TEST(c.for_owner(1, AllocOwner::Emitter) == AllocCounts{});
  BOOST_TEST(c.for_site(0, AllocSite::GatherList) == counts(1, 1, 100, 100, 0, 100));
  BOOST_TEST(c.for_site(0, AllocSite::RefList) == counts(2, 1, 250, 50, 200, 250));
  // Passes follow the blocks allocated in them; frees_during counts where the free happened.
  const auto pass1 = c.for_pass(0, 1);
  BOOST_TEST(pass1.counts == counts(2, 2, 150, 150, 0, 150));
  BOOST_TEST(pass1.frees_during == 1u);
  const auto pass2 = c.for_pass(0, 2);
  BOOST_TEST(pass2.counts == counts(1, 0, 200, 0, 200, 200));
  BOOST_TEST(pass2.frees_during == 1u);  // the realloc's free of the pass-1 block
  BOOST_TEST(c.for_pass(0, 0, AllocOwner::Response) == counts(1, 0, 1000, 0, 1000, 1000));
  const auto passes0 = c.passes(0);
  BOOST_REQUIRE_EQUAL(passes0.size(), 3u);
  BOOST_TEST(passes0[0].pass == 0u);
  BOOST_TEST(passes0[2].pass == 2u);
  const auto rows = c.sites();
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);  // (0,emitter,gather) (0,emitter,ref) (0,response) (1,ng)
  BOOST_TEST(!rows[2].site.has_value());
  BOOST_TEST((rows[3].owner == AllocOwner::Nghttp2 && rows[3].connection == 1u));

  const auto leaks = c.leaks();
  BOOST_REQUIRE_EQUAL(leaks.size(), 3u);  // allocation order: body (#3), ng (#4), b2 (#5)
  BOOST_TEST(leaks[0].sequence == 3u);
  BOOST_TEST(leaks[0].bytes == 1000u);
  BOOST_TEST(leaks[1].connection == 1u);
  BOOST_TEST(leaks[2].sequence == 5u);
  BOOST_TEST((leaks[2].site == AllocSite::RefList));
  BOOST_TEST(!c.all_freed(0));

  p0.deallocate(b2, emitter(AllocSite::RefList, 2));
  p0.deallocate(body, tag(AllocOwner::Response, AllocSite::GatherList, 0));
  p1.deallocate(ng, tag(AllocOwner::Nghttp2, AllocSite::GatherList, 3));
  BOOST_TEST(c.all_freed(0));
  BOOST_TEST(c.all_freed(1));
  BOOST_TEST(c.leaks().empty());
  BOOST_TEST(c.total() == counts(5, 5, 1380, 1380, 0, 1280));
  BOOST_TEST(c.violation_count() == 0u);
}

// ---------------------------------------------------------------------------------------------
// 2. Poison and quarantine.

BOOST_AUTO_TEST_CASE(freed_blocks_read_the_poison_while_quarantined) {
  CountingAllocator c;
  auto& p = c.port(0);
  auto* block = static_cast<std::uint8_t*>(p.allocate(256, emitter(AllocSite::HeapStage, 1)));
  std::memset(block, 0x11, 256);
  p.deallocate(block, emitter(AllocSite::HeapStage, 1));
  BOOST_TEST(all_bytes(block, 256, kPoison));  // the stale pointer reads poison, not reuse
  BOOST_TEST(c.quarantined_bytes() > 256u);

  auto* old = static_cast<std::uint8_t*>(p.allocate(64, emitter(AllocSite::EmitBuffer, 1)));
  std::memset(old, 0x22, 64);
  auto* moved =
      static_cast<std::uint8_t*>(p.reallocate(old, 4096, emitter(AllocSite::EmitBuffer, 1)));
  BOOST_TEST(moved != old);  // never in place
  BOOST_TEST(all_bytes(moved, 64, 0x22));
  BOOST_TEST(all_bytes(old, 64, kPoison));
  p.deallocate(moved, emitter(AllocSite::EmitBuffer, 1));
  c.drain_quarantine();
  BOOST_TEST(c.quarantined_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(the_quarantine_is_bounded_and_first_in_first_out) {
  CountingAllocator c(sim::CountingConfig{4096});
  auto& p = c.port(0);
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(p.allocate(1000, emitter(AllocSite::HeapStage, 1)));
  for (void* b : blocks) p.deallocate(b, emitter(AllocSite::HeapStage, 1));
  BOOST_TEST(c.quarantined_bytes() <= 4096u);
  BOOST_TEST(c.quarantined_bytes() > 2000u);
  // The newest blocks are the quarantined ones (still poisoned, still ours).
  BOOST_TEST(all_bytes(blocks.back(), 1000, kPoison));
  // A block larger than the whole quarantine still waits there, alone.
  void* big = p.allocate(10000, emitter(AllocSite::HeapStage, 2));
  p.deallocate(big, emitter(AllocSite::HeapStage, 2));
  BOOST_TEST(all_bytes(big, 10000, kPoison));
  BOOST_TEST(c.quarantined_bytes() > 10000u);

  CountingAllocator off(sim::CountingConfig{0});
  void* q = off.port(0).allocate(10, emitter(AllocSite::GatherList, 1));
  off.port(0).deallocate(q, emitter(AllocSite::GatherList, 1));
  BOOST_TEST(off.quarantined_bytes() == 0u);
}

// A release policy that keeps no reference: the body a gather entry points at is freed when its
// stream closes inside session_send, before the flush copies it. Poison makes that bug show up
// as wrong delivered bytes, deterministically, instead of depending on what malloc reused.
class NoReferences final : public emitlab::ReleasePolicy {
 public:
  void on_slice(emitlab::ServerStream&, emitlab::PassRecord&) override {}
  void on_stream_close(emitlab::ServerStream&, bool, emitlab::PassRecord*) override {}
  void after_flush(emitlab::PassRecord*) override {}
  void end_pass(const emitlab::ScratchLifetime&) override {}
  void release_all() override {}
};

BOOST_AUTO_TEST_CASE(a_stale_gather_entry_delivers_poison_and_fails_verification) {
  warm_up();
  CountingAllocator c;
  Scenario s{"gather", 2, 3000, 11, {}};
  s.emitter_factory = [](const emitlab::StrategySpec& spec, emitlab::EmitterHeap& heap) {
    return std::make_unique<emitlab::GatherEmitter>(spec, heap, std::make_unique<NoReferences>());
  };
  const Outcome o = run_counted(c, s);
  BOOST_TEST(o.verified == 0u);
  BOOST_REQUIRE(!o.streams.empty());
  bool poisoned = false;
  for (const auto& st : o.streams) {
    BOOST_TEST(!st.verified);
    poisoned =
        poisoned || (st.body.size() == 3000 && all_bytes(st.body.data() + 2000, 1000, kPoison));
  }
  BOOST_TEST(poisoned);
  BOOST_TEST(delivery_error(o, s) == "");
  BOOST_TEST(c.leaks().empty());
}

// ---------------------------------------------------------------------------------------------
// 3. Violations are reported, never fatal.

BOOST_AUTO_TEST_CASE(double_free_and_foreign_pointers_are_reported_not_fatal) {
  CountingAllocator c;
  auto& p0 = c.port(0);
  void* a = p0.allocate(40, emitter(AllocSite::GatherList, 1));
  p0.deallocate(a, emitter(AllocSite::GatherList, 1));
  p0.deallocate(a, emitter(AllocSite::GatherList, 1));  // double free (still quarantined)

  int on_stack = 0;
  p0.deallocate(&on_stack, emitter(AllocSite::GatherList, 1));  // never ours
  void* foreign = std::malloc(32);
  p0.deallocate(foreign, emitter(AllocSite::GatherList, 1));
  BOOST_TEST(p0.reallocate(foreign, 64, emitter(AllocSite::GatherList, 1)) == nullptr);
  std::free(foreign);
  void* b = p0.allocate(40, emitter(AllocSite::RefList, 1));
  p0.deallocate(static_cast<char*>(b) + 8, emitter(AllocSite::RefList, 1));  // interior

  // Wrong owner/site and wrong connection: reported, and the block is still freed correctly.
  p0.deallocate(b, tag(AllocOwner::Response, AllocSite::GatherList, 1));
  void* d = p0.allocate(8, emitter(AllocSite::GatherList, 1));
  c.port(1).deallocate(d, emitter(AllocSite::GatherList, 1));

  // An underflow into the header: detected by the canary.
  auto* e = static_cast<unsigned char*>(p0.allocate(16, emitter(AllocSite::GatherList, 1)));
  e[-3] ^= 0xFF;
  p0.deallocate(e, emitter(AllocSite::GatherList, 1));

  const std::vector<ViolationKind> want{
      ViolationKind::DoubleFree,         ViolationKind::UnknownPointer,
      ViolationKind::UnknownPointer,     ViolationKind::UnknownPointer,
      ViolationKind::UnknownPointer,     ViolationKind::OwnerMismatch,
      ViolationKind::ConnectionMismatch, ViolationKind::HeaderCorrupt};
  BOOST_TEST(kinds(c) == want, boost::test_tools::per_element());
  BOOST_TEST(c.violation_count() == want.size());
  BOOST_TEST(c.violations()[0].sequence == 1u);
  // Rejected frees changed no count; the corrupt block stays counted live (its size is lost).
  BOOST_TEST(c.for_owner(0, AllocOwner::Emitter).frees == 3u);
  BOOST_TEST(c.for_owner(0, AllocOwner::Emitter).live_blocks() == 1u);
  BOOST_TEST(c.leaks().empty());  // it is no longer a block anyone can free
}

// The heap keeps one membership table, each block's state (live or quarantined) a mark in its
// slot: a state lost when the table grows or shifts members after an erase would turn a double
// free into a second counted free, or a live block into a "double free".
BOOST_AUTO_TEST_CASE(block_states_survive_table_growth_and_quarantine_release) {
  constexpr int kBlocks = 3000;  // several growths of the table past its first 1024 slots
  CountingAllocator c(emitlab::sim::CountingConfig{.quarantine_bytes = 64 * 1024});
  auto& p = c.port(0);
  const auto t = emitter(AllocSite::GatherList, 1);
  std::vector<void*> blocks;
  for (int i = 0; i < kBlocks; ++i) blocks.push_back(p.allocate(40, t));
  for (int i = 0; i < kBlocks; i += 2) p.deallocate(blocks[i], t);  // every other one freed
  // 64 KiB holds the last 744 frees (88 bytes each with the header): the first ones are gone.
  const auto quarantined = static_cast<std::uint64_t>(c.quarantined_bytes());
  BOOST_TEST(quarantined <= 64u * 1024u);
  BOOST_TEST(quarantined > 60u * 1024u);
  BOOST_TEST(c.violation_count() == 0u);
  p.deallocate(blocks[kBlocks - 2], t);  // the newest free: still quarantined
  p.deallocate(blocks[0], t);            // the oldest: released, no longer ours
  BOOST_TEST(kinds(c) == (std::vector<ViolationKind>{ViolationKind::DoubleFree,
                                                     ViolationKind::UnknownPointer}),
             boost::test_tools::per_element());
  // Every live block is still live: each frees without a violation, and is then gone.
  for (int i = 1; i < kBlocks; i += 2) p.deallocate(blocks[i], t);
  BOOST_TEST(c.violation_count() == 2u);
  BOOST_TEST(c.for_owner(0, AllocOwner::Emitter).frees == std::uint64_t{kBlocks});
  BOOST_TEST(c.leaks().empty());
}

BOOST_AUTO_TEST_CASE(openssl_double_free_is_routed_to_its_allocator_and_reported) {
  BOOST_REQUIRE(sim::openssl_mem_hooks() == sim::OpenSslHooks::Installed);
  CountingAllocator c;
  void* p = nullptr;
  {
    sim::OpenSslAttribution scope(c, 3, 0);
    p = OPENSSL_malloc(24);
  }
  OPENSSL_free(p);
  OPENSSL_free(p);  // still quarantined: detected by the allocator, not a heap corruption
  BOOST_TEST(kinds(c) == std::vector<ViolationKind>{ViolationKind::DoubleFree},
             boost::test_tools::per_element());
  BOOST_TEST(c.for_owner(3, AllocOwner::OpenSsl) == counts(1, 1, 24, 24, 0, 24));
}

// ---------------------------------------------------------------------------------------------
// 4. Failure injection.

BOOST_AUTO_TEST_CASE(fail_at_fails_exactly_the_nth_allocation_and_says_where) {
  CountingAllocator c;
  auto& p = c.port(2);
  c.fail_at(3);
  std::vector<void*> got;
  got.push_back(p.allocate(10, emitter(AllocSite::GatherList, 1)));
  got.push_back(p.allocate(20, tag(AllocOwner::Nghttp2, AllocSite::GatherList, 1)));
  BOOST_TEST(!c.injected_failure().has_value());
  got.push_back(p.allocate(30, emitter(AllocSite::RefList, 4)));  // the 3rd
  got.push_back(p.allocate(40, emitter(AllocSite::RefList, 4)));
  BOOST_TEST(got[0] != nullptr);
  BOOST_TEST(got[1] != nullptr);
  BOOST_TEST(got[2] == nullptr);
  BOOST_REQUIRE(got[3] != nullptr);  // exactly once
  BOOST_TEST(c.allocations_so_far() == 4u);
  BOOST_TEST(c.total().allocations == 3u);
  const auto f = c.injected_failure();
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST(f->n == 3u);
  BOOST_TEST(f->connection == 2u);
  BOOST_TEST((f->owner == AllocOwner::Emitter && f->site == AllocSite::RefList));
  BOOST_TEST(f->pass == 4u);
  BOOST_TEST(f->bytes == 30u);

  // A failed realloc leaves the old block intact and live.
  std::memset(got[3], 0x33, 40);
  c.fail_at(c.allocations_so_far() + 1);
  BOOST_TEST(p.reallocate(got[3], 400, emitter(AllocSite::RefList, 5)) == nullptr);
  BOOST_TEST(all_bytes(got[3], 40, 0x33));
  BOOST_TEST(c.injected_failure()->reallocation);
  p.deallocate(got[0], emitter(AllocSite::GatherList, 1));
  p.deallocate(got[1], tag(AllocOwner::Nghttp2, AllocSite::GatherList, 1));
  p.deallocate(got[3], emitter(AllocSite::RefList, 5));
  BOOST_TEST(c.violation_count() == 0u);
  BOOST_TEST(c.for_connection(2).live_blocks() == 0u);
}

BOOST_AUTO_TEST_CASE(fail_at_counts_openssl_allocations_too) {
  BOOST_REQUIRE(sim::openssl_mem_hooks() == sim::OpenSslHooks::Installed);
  CountingAllocator c;
  BOOST_TEST(c.openssl_counted());
  void* before = c.port(0).allocate(8, emitter(AllocSite::GatherList, 1));
  c.fail_at(2);
  {
    sim::OpenSslAttribution scope(c, 0, 7);
    BOOST_TEST(scope.active());
    BOOST_TEST(OPENSSL_malloc(100) == nullptr);
    void* ok = OPENSSL_malloc(100);
    BOOST_TEST(ok != nullptr);
    OPENSSL_free(ok);
  }
  const auto f = c.injected_failure();
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST((f->owner == AllocOwner::OpenSsl && !f->site.has_value()));
  BOOST_TEST(f->pass == 7u);
  c.port(0).deallocate(before, emitter(AllocSite::GatherList, 1));
  BOOST_TEST(c.all_freed(0));
}

// OpenSSL frees follow the header: allocated under one scope, freed under another, none, or
// after the allocator is gone.
BOOST_AUTO_TEST_CASE(openssl_frees_are_routed_by_the_header_not_the_scope) {
  BOOST_REQUIRE(sim::openssl_mem_hooks() == sim::OpenSslHooks::Installed);
  const auto unattributed_before = sim::openssl_unattributed_stats();
  void* orphan = nullptr;
  void* outside = OPENSSL_malloc(50);  // no scope: unattributed
  {
    CountingAllocator a;
    CountingAllocator b;
    void* pa = nullptr;
    {
      sim::OpenSslAttribution scope(a, 1, 2);
      pa = OPENSSL_malloc(64);
      orphan = OPENSSL_malloc(16);
      sim::OpenSslUnattributed pause;
      OPENSSL_free(OPENSSL_malloc(5));  // suspended: not a's
    }
    {
      sim::OpenSslAttribution scope(b, 9, 9);
      pa = OPENSSL_realloc(pa, 128);  // still a's block: realloc keeps its owner
      OPENSSL_free(outside);          // unattributed, whatever the scope
    }
    BOOST_TEST(b.total() == AllocCounts{});
    BOOST_TEST(a.for_owner(1, AllocOwner::OpenSsl) == counts(3, 1, 208, 64, 144, 208));
    OPENSSL_free(pa);  // no scope
    BOOST_TEST(a.for_owner(1, AllocOwner::OpenSsl).live_bytes == 16u);
    BOOST_TEST(a.leaks().size() == 1u);
    BOOST_TEST(a.violation_count() == 0u);
  }
  OPENSSL_free(orphan);  // its allocator is gone: freed, not counted anywhere
  const auto after = sim::openssl_unattributed_stats();
  BOOST_TEST(after.orphan_frees == unattributed_before.orphan_frees + 1);
  BOOST_TEST(after.allocations >= unattributed_before.allocations + 2);
  BOOST_TEST(after.corrupt_headers == 0u);
}

// ---------------------------------------------------------------------------------------------
// 5. End to end with the real emitter.

BOOST_AUTO_TEST_CASE(a_gather_run_attributes_every_owner_and_frees_everything) {
  warm_up();
  CountingAllocator c;
  const Scenario s{"gather", 20, 3000, 11, {}};
  const Outcome o = run_counted(c, s);
  BOOST_TEST(o.failure == "");
  BOOST_TEST(o.verified == 20u);
  BOOST_TEST(delivery_error(o, s) == "");
  for (auto owner :
       {AllocOwner::Emitter, AllocOwner::Nghttp2, AllocOwner::Response, AllocOwner::OpenSsl}) {
    BOOST_TEST_CONTEXT("owner " << emitlab::to_string(owner)) {
      BOOST_TEST(c.for_owner(0, owner).allocations > 0u);
      BOOST_TEST(c.for_owner(0, owner).live_blocks() == 0u);
    }
  }
  // The connection's own objects are gone with the ServerConnection; OpenSSL's per-libctx
  // caches it filled go with the TLS contexts (checked above, after the world was destroyed).
  for (auto owner : {AllocOwner::Emitter, AllocOwner::Nghttp2, AllocOwner::Response}) {
    BOOST_TEST(o.after_server[static_cast<std::size_t>(owner)].live_blocks() == 0u);
  }
  BOOST_TEST(c.for_site(0, AllocSite::GatherList).allocations > 0u);
  BOOST_TEST(c.for_site(0, AllocSite::RefList).allocations > 0u);
  // One body per response, exactly.
  BOOST_TEST(c.for_owner(0, AllocOwner::Response).allocations == 20u);
  BOOST_TEST(c.for_owner(0, AllocOwner::Response).bytes_allocated == 60000u);
  BOOST_TEST(c.all_freed(0));
  BOOST_TEST(c.leaks().empty());
  BOOST_TEST(c.violation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(counts_agree_with_the_pass_records) {
  warm_up();
  CountingAllocator c;
  const Scenario s{"gather", 20, 3000, 11, {}};
  const Outcome o = run_counted(c, s);
  BOOST_REQUIRE(o.failure == "");
  std::uint64_t emitter_allocs = 0;
  for (const auto& rec : o.passes) {
    BOOST_TEST_CONTEXT("pass " << rec.index) {
      const auto em = c.for_pass(0, rec.index, AllocOwner::Emitter);
      BOOST_TEST(em.allocations == rec.emitter_allocs());
      BOOST_TEST(em.live_blocks() == 0u);  // gather as shipped frees its lists in the pass
      BOOST_TEST(c.for_pass(0, rec.index, AllocOwner::Nghttp2).allocations == rec.nghttp2_allocs);
    }
    emitter_allocs += rec.emitter_allocs();
  }
  BOOST_TEST(c.for_owner(0, AllocOwner::Emitter).allocations == emitter_allocs);
}

// ---------------------------------------------------------------------------------------------
// 6. failmalloc sweep: every allocation of a tiny scenario fails once, in turn.
//
// The runs share TLS contexts warmed by a throwaway run, so what is swept is the connection's
// own allocations (emitter, nghttp2, responses, and OpenSSL's per-connection work: SSL_new,
// handshake, records), not OpenSSL filling its per-libctx caches at first use. A failed run may
// still change those caches (a fetch that failed half way); then the contexts are destroyed
// right away, which must free everything the run left in them, and rebuilt warm, so every run
// starts from the same state. Each run is checked to have met the same allocations as the clean
// run up to its failure.

namespace {

struct SweepTally {
  std::map<std::string, std::uint64_t> outcomes;  // "owner: how"
  std::uint64_t rebuilds = 0;
};

// The shared contexts of a sweep.
class WarmTls {
 public:
  explicit WarmTls(const Scenario& s) : scenario_(s) {
    warm_up();
    baseline_ = unattributed_without_contexts();
    build();
  }
  sim::DeterministicTls& tls() { return *tls_; }
  bool warm() const { return warm_; }
  // Destroys the contexts (freeing what runs left in their caches) and builds warm ones.
  // Returns the unattributed bytes OpenSSL did not give back with the old contexts: memory
  // allocated when they were built and lost by OpenSSL itself (LeakSanitizer would see it).
  std::int64_t rebuild() {
    tls_.reset();
    const std::int64_t kept = unattributed_without_contexts() - baseline_;
    build();
    return kept;
  }

 private:
  static std::int64_t unattributed_without_contexts() {
    sim::release_openssl_thread_state();
    return static_cast<std::int64_t>(sim::openssl_unattributed_stats().live_bytes);
  }
  void build() {
    tls_ = std::make_unique<sim::DeterministicTls>(scenario_.seed);
    CountingAllocator throwaway;  // the caches it fills outlive it (freed as orphans later)
    warm_ = run_counted(throwaway, scenario_, *tls_).failure.empty();
  }

  Scenario scenario_;
  std::int64_t baseline_ = 0;
  std::unique_ptr<sim::DeterministicTls> tls_;
  bool warm_ = false;
};

struct RunEvidence {
  std::optional<sim::AllocationAttempt> expected;  // the clean run's n-th allocation
  std::int64_t openssl_lost = 0;                   // unattributed bytes OpenSSL never freed
};

void check_failed_run(const Scenario& s, std::uint64_t n, const CountingAllocator& c,
                      const Outcome& o, const RunEvidence& ev) {
  const auto hit = c.injected_failure();
  BOOST_TEST_CONTEXT(s.strategy << " fail_at(" << n << ")"
                                << (hit ? " hit " + sim::to_string(*hit) : " never hit") << " -> "
                                << (o.failure.empty() ? "tolerated" : o.failure)) {
    BOOST_TEST(hit.has_value());
    if (hit && ev.expected && !(*hit == *ev.expected)) {
      BOOST_ERROR("diverged from the clean run, whose allocation was "
                  << sim::to_string(*ev.expected));
    }
    const std::string delivery = delivery_error(o, s);
    if (!delivery.empty()) BOOST_ERROR(delivery);
    if (o.failure.empty() && o.verified != o.requested) BOOST_ERROR("tolerated but not delivered");
    const auto leaks = c.leaks();
    if (!leaks.empty()) {
      BOOST_ERROR("leak: " << leaks.size() << " blocks, first " << sim::to_string(leaks[0]));
    }
    if (ev.openssl_lost != 0) BOOST_ERROR("OpenSSL lost " << ev.openssl_lost << " bytes");
    if (c.violation_count() != 0) BOOST_ERROR("violation: " << sim::to_string(c.violations()[0]));
    // Stricter than delivery: the server itself must know its connection is gone (two core
    // bugs failed only this: a refused SETTINGS at construction, and a session nghttp2
    // terminated on its own that never closed the connection; docs/bugs-found.md).
    if (!o.failure.empty() && !o.server_noticed) BOOST_ERROR("the server did not notice");
  }
}

void tally_run(std::uint64_t n, const CountingAllocator& c, const Outcome& o, SweepTally& tally) {
  const auto hit = c.injected_failure();
  if (!hit) return;
  const std::string how =
      o.failure.empty() ? "tolerated" : o.failure.substr(0, o.failure.find(':'));
  ++tally.outcomes[std::string(emitlab::to_string(hit->owner)) + ": " + how];
  if (std::getenv("EMITLAB_SWEEP_VERBOSE") != nullptr) {
    BOOST_TEST_MESSAGE(n << " " << sim::to_string(*hit) << " -> "
                         << (o.failure.empty() ? "tolerated" : o.failure));
  }
}

void sweep_one(const Scenario& s, std::uint64_t n, WarmTls& warm,
               const std::vector<sim::AllocationAttempt>& clean, SweepTally& tally) {
  const auto before = sim::openssl_unattributed_stats();
  CountingAllocator c;
  c.fail_at(n);
  const Outcome o = run_counted(c, s, warm.tls());
  const auto after = sim::openssl_unattributed_stats();
  RunEvidence ev;
  if (n <= clean.size()) ev.expected = clean[n - 1];
  // The run changed the shared caches (kept blocks of its own, or freed the warm run's):
  // destroy the contexts now, while this run's allocator can still see its blocks freed.
  if (!c.leaks().empty() || after.orphan_frees != before.orphan_frees ||
      after.live_bytes != before.live_bytes) {
    ev.openssl_lost = warm.rebuild();
    ++tally.rebuilds;
  }
  check_failed_run(s, n, c, o, ev);
  tally_run(n, c, o, tally);
}

void sweep(const char* strategy) {
  const Scenario s{strategy, 3, 2000, 11, {}};
  WarmTls warm(s);
  BOOST_REQUIRE(warm.warm());
  CountingAllocator clean;
  clean.record_attempts(true);
  const Outcome o = run_counted(clean, s, warm.tls());
  BOOST_REQUIRE(o.failure == "");
  BOOST_REQUIRE(clean.leaks().empty());
  const auto attempts = clean.attempts();
  const std::uint64_t n_total = clean.allocations_so_far();
  BOOST_REQUIRE(n_total > 0u);
  BOOST_REQUIRE_EQUAL(attempts.size(), n_total);
  SweepTally tally;
  for (std::uint64_t n = 1; n <= n_total; ++n) sweep_one(s, n, warm, attempts, tally);
  // One more than N never hits: the clean run's count is the whole run.
  CountingAllocator beyond;
  beyond.fail_at(n_total + 1);
  BOOST_TEST(run_counted(beyond, s, warm.tls()).failure == "");
  BOOST_TEST(!beyond.injected_failure().has_value());
  BOOST_TEST_MESSAGE(strategy << ": N = " << n_total << ", contexts rebuilt after "
                              << tally.rebuilds << " runs");
  for (const auto& [key, count] : tally.outcomes) BOOST_TEST_MESSAGE("  " << key << ": " << count);
}

}  // namespace

BOOST_AUTO_TEST_CASE(failmalloc_sweep_drain) {
  sweep("drain");
}
BOOST_AUTO_TEST_CASE(failmalloc_sweep_gather) {
  sweep("gather");
}

// Reproduces one case of a sweep: EMITLAB_FAIL_AT=<strategy>:<n> (does nothing without it).
BOOST_AUTO_TEST_CASE(reproduce_one_failure) {
  const char* spec = std::getenv("EMITLAB_FAIL_AT");
  if (spec == nullptr) return;
  const std::string text(spec);
  const std::string strategy = text.substr(0, text.find(':'));
  const Scenario s{strategy.c_str(), 3, 2000, 11, {}};
  WarmTls warm(s);
  SweepTally tally;
  const std::uint64_t n = std::strtoull(text.c_str() + text.find(':') + 1, nullptr, 10);
  sweep_one(s, n, warm, {}, tally);
  for (const auto& [key, count] : tally.outcomes) BOOST_TEST_MESSAGE(key);
}
