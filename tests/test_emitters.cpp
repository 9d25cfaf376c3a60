// Each emitter (drain, gather, hybrid) and each Track A part (A1..A4), one connection at a time
// against the simulated peer through the pinned one-connection pump (tests/support/pump.h, seed
// 5): what each pass did is read from its PassRecord, and the connection's validate() (TLS layer,
// session, emitter, release policy) is checked after every step. The release policies are also
// driven alone, without a connection.
#define BOOST_TEST_MODULE test_emitters
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "core/release_policy.h"
#include "core/server_connection.h"
#include "core/wire_limits.h"
#include "sim/body_pattern.h"
#include "support/pump.h"

using namespace emitlab;

namespace {

constexpr std::uint64_t kSeed = 29;

struct Run {
  bool failed = false;
  std::string error;
  std::size_t verified = 0;
  std::vector<PassRecord> passes;
  PassRecord totals;
  std::string broken;  // the first validate() complaint
  sim::Digest wire{};
  std::uint32_t latch_at_end = 0;
};

struct Shape {
  std::uint32_t batch = 0;              // requests the peer keeps open (0: all at once)
  std::size_t cipher_out_records = 0;   // 0: the default cipher-out ring
  testing::BodySize size;               // empty: the fixed body
  testing::Pump::OnStep on_step;        // after the validate() of each step
  testing::Pump::OnRequest on_request;  // empty: serve_bodies
};

Run run(const std::string& strategy, std::uint32_t requests, std::size_t body, Shape shape = {}) {
  ConnectionConfig config;
  config.strategy = *parse_strategy(strategy).spec;
  config.pass_history = kKeepAllPasses;
  config.rings.cipher_out_records = shape.cipher_out_records;
  const testing::BodySize size = shape.size ? shape.size : testing::fixed_size(body);
  sim::PeerConfig peer;
  peer.requests = requests;
  peer.batch = shape.batch == 0 ? requests : shape.batch;
  peer.expect = testing::expect_bodies(kSeed, size);
  Run out;
  testing::Pump pump(config, peer,
                     shape.on_request ? shape.on_request : testing::serve_bodies(kSeed, size), 5);
  auto check = [&out, &shape](ServerConnection& conn) {
    if (out.broken.empty()) out.broken = conn.validate();
    if (shape.on_step) shape.on_step(conn);
  };
  pump.run(check);
  check(pump.conn());
  out.failed = pump.conn().failed();
  out.error = pump.conn().error();
  out.verified = pump.peer().responses_verified();
  out.passes = pump.conn().passes();
  out.totals = pump.conn().totals();
  out.wire = pump.peer().wire_digest();
  out.latch_at_end = pump.conn().large_streams_pending();
  return out;
}

std::size_t count_if(const Run& r, bool (*pred)(const PassRecord&)) {
  std::size_t n = 0;
  for (const auto& p : r.passes) n += pred(p) ? 1 : 0;
  return n;
}

std::uint64_t copied(const PassRecord& r, CopySite site) {
  return r.copied[static_cast<std::size_t>(site)];
}

void healthy(const Run& r, std::uint32_t requests) {
  BOOST_TEST(!r.failed, r.error);
  BOOST_TEST(r.verified == requests);
  BOOST_TEST(r.broken == "");
}

ResponseRef body_of(std::size_t n) {
  ResponseObject::Spec spec;
  spec.body_size = n;
  return ResponseRef(
      ResponseObject::create(system_allocator(), std::move(spec), [](std::span<std::uint8_t>) {}));
}

}  // namespace

BOOST_AUTO_TEST_CASE(drain_copies_through_its_buffer_and_parks_the_slice_that_does_not_fit) {
  const Run r = run("drain", 4, 40000);
  healthy(r, 4);
  BOOST_TEST(count_if(r, [](const PassRecord& p) { return p.kind != PassKind::Drain; }) == 0U);
  // A full frame leaves 256 bytes of the buffer: the next frame's slice is parked.
  BOOST_TEST(count_if(r, [](const PassRecord& p) { return p.drain_slice_parked; }) > 0U);
  BOOST_TEST(copied(r.totals, CopySite::DrainBuffer) >= 4U * 40000U);
  BOOST_TEST(copied(r.totals, CopySite::PlaintextRing) >= 4U * 40000U);
  BOOST_TEST(r.totals.emitter_allocs() == 0U);
  BOOST_TEST(r.totals.ref_retains == 0U);
}

BOOST_AUTO_TEST_CASE(gather_takes_a_reference_per_slice_and_gathers_entries) {
  const Run r = run("gather", 4, 40000);
  healthy(r, 4);
  BOOST_TEST(count_if(r, [](const PassRecord& p) { return p.kind != PassKind::Gather; }) == 0U);
  BOOST_TEST(count_if(r, [](const PassRecord& p) { return p.gather_entries > 1; }) > 0U);
  // Three DATA slices per 40000-byte body at 16384 per frame, each with its own reference.
  BOOST_TEST(r.totals.ref_retains == 4U * 3U);
  BOOST_TEST(r.totals.ref_releases == r.totals.ref_retains);
  BOOST_TEST(copied(r.totals, CopySite::DrainBuffer) == 0U);
  BOOST_TEST(copied(r.totals, CopySite::Stage) + copied(r.totals, CopySite::HeapStage) > 0U);
  for (const auto& p : r.passes) {
    if (!p.skipped) BOOST_TEST(p.bytes <= gather_worst_pass(StrategySpec::kDefaultCap));
  }
}

BOOST_AUTO_TEST_CASE(hybrid_drains_small_bodies_and_gathers_large_ones) {
  const Run small = run("hybrid", 4, 100);
  healthy(small, 4);
  BOOST_TEST(count_if(small, [](const PassRecord& p) { return p.kind == PassKind::Gather; }) == 0U);
  const Run large = run("hybrid", 4, 40000);
  healthy(large, 4);
  BOOST_TEST(count_if(large, [](const PassRecord& p) { return p.kind == PassKind::Gather; }) > 0U);
  BOOST_TEST(count_if(large, [](const PassRecord& p) { return p.latch_counter > 0; }) > 0U);
  BOOST_TEST(large.latch_at_end == 0U);  // every latch undone at stream close
}

BOOST_AUTO_TEST_CASE(a1_reuses_scratch_and_writes_the_same_wire) {
  const Run plain = run("gather", 8, 40000);
  const Run a1 = run("gather+A1", 8, 40000);
  healthy(plain, 8);
  healthy(a1, 8);
  BOOST_TEST(a1.totals.emitter_allocs() < plain.totals.emitter_allocs());
  BOOST_TEST(a1.totals.emitter_allocs() <= kAllocSites);  // once per site, then kept
  BOOST_TEST((a1.wire == plain.wire));
}

BOOST_AUTO_TEST_CASE(a2_writes_a_one_entry_pass_without_the_stage) {
  const Run plain = run("gather", 4, 40000);
  const Run a2 = run("gather+A2", 4, 40000);
  healthy(a2, 4);
  BOOST_TEST(count_if(a2, [](const PassRecord& p) { return p.fast_path; }) > 0U);
  BOOST_TEST(count_if(plain, [](const PassRecord& p) { return p.fast_path; }) == 0U);
  for (const auto& p : a2.passes) {
    if (p.fast_path) BOOST_TEST(p.gather_entries == 1U);
  }
  const auto staged = [](const Run& r) {
    return copied(r.totals, CopySite::Stage) + copied(r.totals, CopySite::HeapStage);
  };
  BOOST_TEST(staged(a2) < staged(plain));
  BOOST_TEST((a2.wire == plain.wire));
}

BOOST_AUTO_TEST_CASE(a3_takes_one_reference_per_stream) {
  const Run plain = run("gather", 4, 40000);
  const Run a3 = run("gather+A3", 4, 40000);
  healthy(a3, 4);
  BOOST_TEST(a3.totals.ref_retains == 4U);
  BOOST_TEST(a3.totals.ref_releases == 4U);
  BOOST_TEST(a3.totals.streams_started == 4U);
  BOOST_TEST(a3.totals.ref_retains < plain.totals.ref_retains);
  BOOST_TEST((a3.wire == plain.wire));
}

BOOST_AUTO_TEST_CASE(a4_caps_every_gather_pass) {
  const Run plain = run("gather", 4, 40000);
  const Run capped = run("gather@cap=4K", 4, 40000);
  healthy(capped, 4);
  std::size_t gather_passes = 0;
  for (const auto& p : capped.passes) {
    if (p.kind != PassKind::Gather || p.skipped) continue;
    ++gather_passes;
    BOOST_TEST(p.bytes <= gather_worst_pass(4096));
  }
  std::size_t plain_passes = 0;
  for (const auto& p : plain.passes) plain_passes += p.skipped ? 0 : 1;
  BOOST_TEST(gather_passes > plain_passes);
  BOOST_TEST(count_if(capped, [](const PassRecord& p) { return p.gather_frame_deferred; }) > 0U);
}

BOOST_AUTO_TEST_CASE(per_slice_policy_holds_each_slice_until_the_flush) {
  PassRecord rec;
  EmitterHeap heap(system_allocator());
  heap.attach(&rec);
  auto policy = make_release_policy(false, heap);
  ServerStream st;
  st.id = 1;
  st.response = body_of(100);
  ResponseObject* body = st.response.get();
  for (int i = 0; i < 3; ++i) policy->on_slice(st, rec);
  BOOST_TEST(rec.ref_retains == 3U);
  BOOST_TEST(body->refcount() == 4U);
  BOOST_TEST(policy->validate() != "");  // held across a pass boundary would be a leak
  policy->after_flush(&rec);
  BOOST_TEST(rec.ref_releases == 3U);
  BOOST_TEST(body->refcount() == 1U);
  BOOST_TEST(policy->validate() == "");
  policy->release_all();
}

BOOST_AUTO_TEST_CASE(at_close_policy_defers_a_release_inside_a_pass_to_after_the_flush) {
  PassRecord rec;
  EmitterHeap heap(system_allocator());
  heap.attach(&rec);
  auto policy = make_release_policy(true, heap);
  ServerStream st;
  st.id = 1;
  st.response = body_of(100);
  ResponseObject* body = st.response.get();
  policy->on_slice(st, rec);
  policy->on_slice(st, rec);
  BOOST_TEST(rec.ref_retains == 1U);
  BOOST_TEST(rec.streams_started == 1U);
  policy->on_stream_close(st, true, &rec);
  BOOST_TEST(!st.response.reset());  // the owner's reference goes; the emitter's stays
  BOOST_TEST(body->refcount() == 1U);
  BOOST_TEST(policy->validate() != "");
  policy->after_flush(&rec);
  BOOST_TEST(rec.ref_releases == 1U);
  BOOST_TEST(rec.objects_destroyed == 1U);
  BOOST_TEST(policy->validate() == "");
}

BOOST_AUTO_TEST_CASE(gather_skips_a_pass_while_a_write_is_in_flight) {
  // A one-record cipher ring keeps a write in flight most of the time: the peer's window
  // updates ask for passes then, and gather must skip them rather than encrypt.
  Shape one_record;
  one_record.cipher_out_records = 1;
  const Run r = run("gather", 4, 40000, one_record);
  healthy(r, 4);
  BOOST_TEST(count_if(r, [](const PassRecord& p) { return p.skipped; }) > 0U);
  BOOST_TEST(r.totals.ssl_writes > 0U);
}

BOOST_AUTO_TEST_CASE(hybrid_stays_with_gather_while_its_frame_is_deferred) {
  // One large stream among small ones, the peer keeping a few requests open: gather's NO_COPY
  // frame is sometimes deferred at the cap when the last latched stream has closed, and the
  // pass after it must stay with gather. (Drain's pin, the other direction, needs a large
  // stream to open exactly while drain's slice is parked: the explorer's drain-slice-large-open
  // scope reaches it; this pump's schedules do not.)
  std::size_t gather_pins = 0;
  for (std::size_t small : {900U, 1500U, 2000U}) {
    for (std::size_t large : {9000U, 20000U, 33000U}) {
      for (std::uint32_t batch : {5U, 30U}) {
        Shape mix;
        mix.batch = batch;
        mix.cipher_out_records = 1;  // the plaintext ring fills, so drain ends passes parked
        mix.size = [small, large](std::uint64_t id) { return id % 10 == 0 ? large : small; };
        const Run r = run("hybrid", 30, 0, mix);
        BOOST_TEST_CONTEXT("small " << small << " large " << large << " batch " << batch) {
          healthy(r, 30);
          for (std::size_t i = 1; i < r.passes.size(); ++i) {
            const PassRecord& before = r.passes[i - 1];
            const PassRecord& pass = r.passes[i];
            if (before.gather_frame_deferred && before.latch_counter == 0) {
              ++gather_pins;
              BOOST_TEST((pass.kind == PassKind::Gather), "pass " << pass.index);
            }
          }
        }
      }
    }
  }
  BOOST_TEST(gather_pins > 0U);
}

BOOST_AUTO_TEST_CASE(hybrid_latches_a_streaming_body_whatever_its_size) {
  // A streaming body's size is unknown when it starts: hybrid gathers it, even a small one.
  Shape streaming;
  streaming.on_request = [](ServerConnection& conn, ServerStream& st) {
    const auto id = testing::request_id(st);
    BOOST_REQUIRE(conn.submit_streaming_response(st.id, body_of(0)));
    const auto bytes = sim::make_body(kSeed, id, 100);
    BOOST_REQUIRE(conn.append_body_chunk(st.id, bytes));
    BOOST_REQUIRE(conn.end_body(st.id));
  };
  const Run r = run("hybrid", 4, 100, streaming);
  healthy(r, 4);
  BOOST_TEST(count_if(r, [](const PassRecord& p) { return p.kind == PassKind::Gather; }) > 0U);
  BOOST_TEST(r.latch_at_end == 0U);
}

BOOST_AUTO_TEST_CASE(a_shutdown_waits_for_drains_parked_slice) {
  // The server shuts down as soon as every request is in: GOAWAY lets the open streams finish,
  // and the connection closes only once drain has written its parked slice too.
  for (std::size_t body : {20000U, 30000U, 40000U, 50000U, 70000U}) {
    bool shut = false;
    Shape early;
    early.on_step = [&shut](ServerConnection& conn) {
      if (!shut && conn.session().open_streams() == 4U) {
        conn.shutdown();
        shut = true;
      }
    };
    const Run r = run("drain", 4, body, early);
    BOOST_TEST_CONTEXT("body " << body) {
      BOOST_TEST(shut);
      healthy(r, 4);
    }
  }
}

BOOST_AUTO_TEST_CASE(no_policy_touches_the_count_of_an_immutable_shared_body) {
  // Upstream a7b3102: reference operations on an interned (immutable) body race with every
  // other connection serving it. Neither policy may take or drop one.
  for (const bool at_close : {false, true}) {
    BOOST_TEST_CONTEXT("at_close " << at_close) {
      PassRecord rec;
      EmitterHeap heap(system_allocator());
      heap.attach(&rec);
      auto policy = make_release_policy(at_close, heap);
      ResponseObject::Spec spec;
      spec.body_size = 100;
      ResponseObject* shared = ResponseObject::create_shared(system_allocator(), std::move(spec),
                                                             [](std::span<std::uint8_t> out) {
                                                               for (auto& b : out) b = 's';
                                                             });
      const std::uint32_t count = shared->refcount();
      ServerStream st;
      st.id = 1;
      st.response = ResponseRef(shared);
      policy->on_slice(st, rec);
      BOOST_TEST(shared->refcount() == count);
      policy->on_stream_close(st, true, &rec);
      policy->after_flush(&rec);
      BOOST_TEST(shared->refcount() == count);
      BOOST_TEST(rec.ref_retains == 0U);
      BOOST_TEST(rec.ref_releases == 0U);
      BOOST_TEST(policy->validate() == "");
      st.response = ResponseRef();
      ResponseObject::destroy_shared(shared);
    }
  }
}
