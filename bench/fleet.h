// The server side of a benchmark run: c real ServerConnections (core/), each with the simulated
// link as its transport (sim/sim_link.h) and a request handler, and the record/replay of what
// the client sent them.
//
// A Recording is the client side reduced to bytes and points in time: every client->server
// ciphertext chunk and every write completion, in the exact order the verified run (with real
// SimPeers) delivered them. A fleet built with the same strategy, the same server seed and the
// same allocation-free-of-timing code then does exactly the same work when the recording is
// replayed into it: the server's bytes are identical, so the recorded client bytes (whose TLS
// records and HTTP/2 frames depend on what the server sent) stay valid. Replay completes each
// write without decrypting it: the peer's work is absent from the replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/env.h"
#include "bench/figures.h"
#include "bench/plan.h"
#include "core/server_connection.h"
#include "sim/sha256.h"
#include "sim/sim_link.h"

namespace emitlab::bench {

enum class EventKind : std::uint8_t {
  Feed,      // client ciphertext [offset, offset + length) of the recording's arena
  Complete,  // the write in flight completed; length is its size
  Shutdown,  // the server shuts the connection down (its peer is done)
};

struct Event {
  EventKind kind = EventKind::Feed;
  std::uint32_t connection = 0;
  std::size_t offset = 0;
  std::size_t length = 0;
};

struct Recording {
  std::vector<std::uint8_t> arena;            // every recorded client chunk
  std::vector<std::vector<Event>> handshake;  // per connection: TLS handshake, h2 preface
  std::vector<Event> requests;                // the timed phase, every connection in order
  std::vector<sim::Digest> wire;              // per connection: all ciphertext the server sent
  std::span<const std::uint8_t> chunk(const Event& e) const;
};

// Answers every request at once with a buffered body copied from the pool.
class Handler final : public RequestHandler {
 public:
  Handler(const BodyPool& bodies, std::size_t body, Allocator& allocator)
      : bodies_(&bodies), body_(body), allocator_(&allocator) {}
  void on_request(ServerConnection& connection, ServerStream& stream) override;
  std::uint64_t unanswered() const { return unanswered_; }

 private:
  const BodyPool* bodies_;
  std::size_t body_;
  Allocator* allocator_;
  std::uint64_t unanswered_ = 0;  // requests without a /r/<id> path (none in a good run)
};

class Fleet {
 public:
  using PortOf = std::function<Allocator&(std::uint32_t connection)>;
  // Builds every connection (before any handshake, in index order, both when recording and
  // replaying, so the server's random draws happen in the same order).
  Fleet(const Plan& plan, const BodyPool& bodies, SSL_CTX* server_ctx, const PortOf& port,
        bool hash);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  std::uint32_t size() const { return static_cast<std::uint32_t>(members_.size()); }
  ServerConnection& connection(std::uint32_t i);
  // The connection's transport: holds the write in flight until the driver completes it.
  sim::SimLink& link(std::uint32_t i);

  // Replays events in order; false (and error()) at the first one the server disagrees with.
  bool replay(const Recording& recording, const std::vector<Event>& events);
  // Marks where every connection's timed phase begins.
  void mark_all();
  PhaseFigures figures() const;  // since mark_all(), summed over connections
  PhaseFigures figures(std::uint32_t i) const;
  std::string health() const;  // empty when no connection failed or misbehaved
  const std::string& error() const { return error_; }

 private:
  struct Member;
  bool apply(const Recording& recording, const Event& e);

  std::vector<std::unique_ptr<Member>> members_;
  std::vector<RecordMark> marks_;
  std::vector<std::uint64_t> wire_marks_;
  std::string error_;
};

}  // namespace emitlab::bench
