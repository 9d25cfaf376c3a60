// H2ServerSession on its own (core/h2_session.h): requests in, responses out through mem_send
// (the copying provider) or through an EmitSink (NO_COPY), streaming bodies, stream closes and
// a flood, against a plain nghttp2 client session. No TLS, no emitter, no world.
#define BOOST_TEST_MODULE test_h2_session
#include <nghttp2/nghttp2.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/h2_session.h"
#include "core/nghttp2_handles.h"
#include "core/wire_limits.h"

using namespace emitlab;

namespace {

struct Listener final : SessionListener {
  std::vector<std::int32_t> requests;
  std::vector<std::pair<std::int32_t, std::uint32_t>> closes;
  int emits_requested = 0;
  int emit_now_calls = 0;
  void on_request(ServerStream& s) override { requests.push_back(s.id); }
  void request_emit() override { ++emits_requested; }
  void emit_now() override { ++emit_now_calls; }
  void on_stream_close(ServerStream& s, std::uint32_t code) override {
    closes.emplace_back(s.id, code);
  }
};

// The client: sends requests, collects bodies, stream closes and GOAWAYs.
class Client {
 public:
  Client() {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    NgCallbacksPtr owned(cbs);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d,
                std::size_t n, void* ud) {
          static_cast<Client*>(ud)->bodies[id].append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, std::int32_t id, std::uint32_t code, void* ud) {
          static_cast<Client*>(ud)->closed[id] = code;
          return 0;
        });
    nghttp2_session_callbacks_set_on_header_callback(
        cbs,
        [](nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name, std::size_t namelen,
           const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* ud) {
          if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_HEADERS) {
            static_cast<Client*>(ud)->trailers[f->hd.stream_id].emplace_back(
                std::string(reinterpret_cast<const char*>(name), namelen),
                std::string(reinterpret_cast<const char*>(value), valuelen));
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* ud) {
          if (f->hd.type == NGHTTP2_GOAWAY) static_cast<Client*>(ud)->goaway = f->goaway.error_code;
          return 0;
        });
    nghttp2_session* raw = nullptr;
    nghttp2_session_client_new(&raw, cbs, this);
    session_.reset(raw);
    nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  std::int32_t get(const std::string& path) {
    const std::string method = ":method", get = "GET", scheme = ":scheme", https = "https",
                      authority = ":authority", host = "emitlab.test", p = ":path";
    auto nv = [](const std::string& n, const std::string& v) {
      return nghttp2_nv{(std::uint8_t*)n.data(), (std::uint8_t*)v.data(), n.size(), v.size(),
                        NGHTTP2_NV_FLAG_NONE};
    };
    const nghttp2_nv nva[] = {nv(method, get), nv(scheme, https), nv(authority, host), nv(p, path)};
    return nghttp2_submit_request(session_.get(), nullptr, nva, 4, nullptr, nullptr);
  }
  std::vector<std::uint8_t> take() {
    std::vector<std::uint8_t> out;
    const std::uint8_t* d = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_.get(), &d)) > 0;) {
      out.insert(out.end(), d, d + n);
    }
    return out;
  }
  void give(const std::vector<std::uint8_t>& in) {
    BOOST_REQUIRE(nghttp2_session_mem_recv(session_.get(), in.data(), in.size()) ==
                  static_cast<ssize_t>(in.size()));
  }
  nghttp2_session* raw() { return session_.get(); }
  std::map<std::int32_t, std::string> bodies;
  std::map<std::int32_t, std::uint32_t> closed;
  std::map<std::int32_t, std::vector<std::pair<std::string, std::string>>> trailers;
  std::uint32_t goaway = UINT32_MAX;

 private:
  NgSessionPtr session_;
};

// The server's output through the copying provider (what drain does).
std::vector<std::uint8_t> server_output(H2ServerSession& s) {
  std::vector<std::uint8_t> out;
  const std::uint8_t* d = nullptr;
  for (ssize_t n; (n = nghttp2_session_mem_send(s.raw(), &d)) > 0;) out.insert(out.end(), d, d + n);
  return out;
}

ResponseRef body_of(std::size_t n, char c = 'x', HeaderTable trailers = {}) {
  ResponseObject::Spec spec;
  spec.body_size = n;
  spec.trailers = std::move(trailers);
  return ResponseRef(
      ResponseObject::create(system_allocator(), std::move(spec), [c](std::span<std::uint8_t> out) {
        for (auto& b : out) b = static_cast<std::uint8_t>(c);
      }));
}

struct Pair {
  Listener listener;
  H2ServerSession server{listener, system_allocator()};
  Client client;
  void to_server() { BOOST_REQUIRE(server.feed(client.take())); }
  void to_client() { client.give(server_output(server)); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(request_in_response_out_through_the_copying_provider) {
  Pair p;
  const std::int32_t id = p.client.get("/r/1");
  p.to_server();
  BOOST_REQUIRE(p.listener.requests.size() == 1U);
  BOOST_TEST(p.listener.requests[0] == id);
  BOOST_TEST(p.server.open_streams() == 1U);
  BOOST_TEST(p.server.validate() == "");
  const int emits = p.listener.emits_requested;
  BOOST_TEST(p.server.submit_response(id, body_of(40000, 'b')));
  BOOST_TEST(p.listener.emits_requested > emits);  // it asks for a pass, never sends itself
  BOOST_TEST(p.server.want_write());
  BOOST_TEST(!p.server.submit_response(id, body_of(1)));  // a stream answers once
  p.to_client();
  BOOST_TEST(p.client.bodies[id] == std::string(40000, 'b'));
  BOOST_TEST(p.client.closed.at(id) == NGHTTP2_NO_ERROR);
  BOOST_REQUIRE(p.listener.closes.size() == 1U);
  BOOST_TEST(p.listener.closes[0].second == NGHTTP2_NO_ERROR);
  BOOST_TEST(p.server.streams_closed() == 1U);
  BOOST_TEST(p.server.open_streams() == 0U);
  BOOST_TEST(p.listener.emit_now_calls == 0);
  BOOST_TEST(p.server.validate() == "");
}

namespace {
// A sink in gather's role: copies frame bytes, takes NO_COPY DATA frames by their length.
struct Sink final : EmitSink {
  std::size_t copied = 0;
  std::vector<std::size_t> data_frames;
  ssize_t on_send(std::span<const std::uint8_t> bytes) override {
    copied += bytes.size();
    return static_cast<ssize_t>(bytes.size());
  }
  int on_send_data(const std::uint8_t*, std::size_t length, ServerStream& stream) override {
    data_frames.push_back(length);
    stream.body_offset += length;  // the sink's side of the contract: it takes the bytes
    return 0;
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(with_a_sink_attached_bodies_go_no_copy_in_full_frames) {
  Pair p;
  const std::int32_t id = p.client.get("/r/1");
  p.to_server();
  BOOST_TEST(p.server.submit_response(id, body_of(40000)));
  Sink sink;
  p.server.attach_sink(&sink);
  BOOST_TEST(p.server.validate() != "");  // a sink left attached is caught
  BOOST_TEST(nghttp2_session_send(p.server.raw()) == 0);
  p.server.attach_sink(nullptr);
  const std::vector<std::size_t> want{kMaxFramePayload, kMaxFramePayload,
                                      40000 - 2 * kMaxFramePayload};
  BOOST_TEST(sink.data_frames == want, boost::test_tools::per_element());
  BOOST_TEST(p.server.streams_closed() == 1U);
  BOOST_TEST(p.server.validate() == "");
}

BOOST_AUTO_TEST_CASE(a_streaming_body_defers_until_chunks_arrive) {
  Pair p;
  const std::int32_t id = p.client.get("/r/1");
  p.to_server();
  BOOST_TEST(p.server.submit_streaming_response(id, body_of(0)));
  p.to_client();
  BOOST_TEST(p.client.bodies[id].empty());
  BOOST_TEST(p.server.find(id)->deferred);
  BOOST_TEST(p.server.validate() == "");
  BOOST_TEST(p.server.append_body_chunk(id, body_of(300, 'c')));
  BOOST_TEST(!p.server.find(id)->deferred);
  p.to_client();
  BOOST_TEST(p.client.bodies[id] == std::string(300, 'c'));
  BOOST_TEST(!p.client.closed.contains(id));
  BOOST_TEST(p.server.end_body(id));
  BOOST_TEST(!p.server.append_body_chunk(id, body_of(1)));  // nothing after the end
  p.to_client();
  BOOST_TEST(p.client.closed.at(id) == NGHTTP2_NO_ERROR);
  BOOST_TEST(p.server.validate() == "");
}

BOOST_AUTO_TEST_CASE(a_reset_reaches_the_listener_with_its_code) {
  Pair p;
  const std::int32_t id = p.client.get("/r/1");
  p.to_server();
  BOOST_TEST(p.server.reset_stream(id, NGHTTP2_CANCEL));
  p.to_client();
  BOOST_REQUIRE(p.listener.closes.size() == 1U);
  BOOST_TEST(p.listener.closes[0].second == NGHTTP2_CANCEL);
  BOOST_TEST(p.server.streams_reset() == 1U);
  BOOST_TEST(p.server.validate() == "");
}

BOOST_AUTO_TEST_CASE(a_ping_flood_is_answered_with_enhance_your_calm) {
  Pair p;
  p.to_server();
  p.to_client();
  const std::uint8_t opaque[8] = {};
  for (std::size_t i = 0; i <= FloodLimits::kMaxOutboundAck + 1; ++i) {
    nghttp2_submit_ping(p.client.raw(), NGHTTP2_FLAG_NONE, opaque);
  }
  p.to_server();  // the server never sent the ACKs: they pile up
  BOOST_TEST((p.server.flood() == Flood::PingAck));
  BOOST_TEST(!p.server.error().empty());
  p.to_client();
  BOOST_TEST(p.client.goaway == NGHTTP2_ENHANCE_YOUR_CALM);
  BOOST_TEST(p.server.validate() == "");
}

BOOST_AUTO_TEST_CASE(open_streams_are_cancelled_through_the_listener) {
  Pair p;
  p.client.get("/r/1");
  p.client.get("/r/2");
  p.to_server();
  BOOST_TEST(p.server.open_streams() == 2U);
  p.server.cancel_open_streams();
  BOOST_TEST(p.listener.closes.size() == 2U);
  for (const auto& [id, code] : p.listener.closes) BOOST_TEST(code == NGHTTP2_CANCEL);
  BOOST_TEST(p.server.open_streams() == 0U);
}

BOOST_AUTO_TEST_CASE(the_latch_count_follows_every_flag_change_and_every_way_out) {
  Pair p;
  const std::int32_t a = p.client.get("/r/1");
  const std::int32_t b = p.client.get("/r/2");
  const std::int32_t c = p.client.get("/r/3");
  p.to_server();
  ServerStream& sa = *p.server.find(a);
  BOOST_TEST(p.server.latch(sa));
  BOOST_TEST(!p.server.latch(sa));  // once per stream
  BOOST_TEST(p.server.latch(*p.server.find(b)));
  BOOST_TEST(p.server.latch(*p.server.find(c)));
  BOOST_TEST(p.server.latched_open_streams() == 3U);
  BOOST_TEST(p.server.validate() == "");
  BOOST_TEST(p.server.unlatch(sa));
  BOOST_TEST(!p.server.unlatch(sa));
  BOOST_TEST(p.server.latched_open_streams() == 2U);
  BOOST_TEST(p.server.validate() == "");
  // A latched stream that closes (this listener never unlatches) leaves the count.
  BOOST_TEST(p.server.submit_response(b, body_of(10)));
  p.to_client();
  BOOST_TEST(p.client.closed.at(b) == NGHTTP2_NO_ERROR);
  BOOST_TEST(p.server.latched_open_streams() == 1U);
  BOOST_TEST(p.server.validate() == "");
  // A flag set behind the session's back is what validate()'s recount is for.
  p.server.find(a)->counted_large = true;
  BOOST_TEST(p.server.validate() != "");
  p.server.find(a)->counted_large = false;
  // So does a latched stream cancelled with the connection.
  p.server.cancel_open_streams();
  BOOST_TEST(p.server.latched_open_streams() == 0U);
  BOOST_TEST(p.server.validate() == "");
}

BOOST_AUTO_TEST_CASE(trailers_follow_the_body_and_end_the_stream) {
  Pair p;
  const std::int32_t id = p.client.get("/r/1");
  p.to_server();
  BOOST_TEST(p.server.submit_response(id, body_of(20000, 't', {{"x-checksum", "abc"}})));
  p.to_client();
  BOOST_TEST(p.client.bodies[id] == std::string(20000, 't'));
  BOOST_REQUIRE(p.client.trailers[id].size() == 1U);
  BOOST_TEST(p.client.trailers[id][0].first == "x-checksum");
  BOOST_TEST(p.client.trailers[id][0].second == "abc");
  BOOST_TEST(p.client.closed.at(id) == NGHTTP2_NO_ERROR);
  BOOST_TEST(p.server.validate() == "");
}

BOOST_AUTO_TEST_CASE(a_window_update_asks_for_the_next_pass) {
  // Upstream a057120: a body that filled the stream's window stalls for ever unless the
  // WINDOW_UPDATE that reopens it asks for another pass.
  Pair p;
  const std::int32_t id = p.client.get("/r/1");
  p.to_server();
  BOOST_TEST(p.server.submit_response(id, body_of(100000, 'w')));
  p.to_client();  // the default window of 65535 bytes, then the body waits
  BOOST_TEST(p.client.bodies[id].size() == 65535U);
  BOOST_TEST(!p.server.want_write());
  const int emits = p.listener.emits_requested;
  BOOST_REQUIRE(nghttp2_submit_window_update(p.client.raw(), NGHTTP2_FLAG_NONE, id, 40000) == 0);
  BOOST_REQUIRE(nghttp2_submit_window_update(p.client.raw(), NGHTTP2_FLAG_NONE, 0, 40000) == 0);
  p.to_server();
  BOOST_TEST(p.listener.emits_requested > emits);
  BOOST_TEST(p.listener.emit_now_calls == 0);  // asked for, never run inside the callback
  BOOST_TEST(p.server.want_write());
  p.to_client();
  BOOST_TEST(p.client.bodies[id] == std::string(100000, 'w'));
  BOOST_TEST(p.client.closed.at(id) == NGHTTP2_NO_ERROR);
  BOOST_TEST(p.server.validate() == "");
}
