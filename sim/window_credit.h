// The simulated peer's flow-control policies (PeerWindow): which receive windows it announces,
// and when it credits consumed DATA back to the server with WINDOW_UPDATE. nghttp2's automatic
// updates are off in the peer, so these rules alone decide the client's window bytes.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>

namespace emitlab::sim {

enum class PeerWindow : std::uint8_t {
  Wide,      // windows opened to 2^31-1 once; no WINDOW_UPDATE ever
  Eager,     // every consumed byte is credited back at once
  Half,      // credited when half the window is consumed (nghttp2's automatic policy)
  Stingy,    // credited by release_window() in small increments
  Withheld,  // credited only when the world calls release_window()
};

class WindowCredit {
 public:
  WindowCredit(PeerWindow policy, std::uint32_t initial_window, std::uint32_t connection_window)
      : policy_(policy), initial_window_(initial_window), connection_window_(connection_window) {}

  // What the peer announces: SETTINGS_INITIAL_WINDOW_SIZE and its connection receive window.
  std::uint32_t announced_stream_window() const;
  std::int32_t announced_connection_window() const;

  // Streams are tracked from their request until they close.
  void open(std::int32_t stream_id) { stream_credit_[stream_id] = 0; }
  void close(std::int32_t stream_id) { stream_credit_.erase(stream_id); }
  void clear() { stream_credit_.clear(); }
  // A DATA frame of `length` bytes arrived on a tracked stream (others are ignored).
  void consumed(std::int32_t stream_id, std::uint64_t length);
  std::uint64_t stream_credit(std::int32_t stream_id) const;

  // Eager and half: credits what their rule says is due now (the others do nothing).
  void apply(nghttp2_session* session);
  // Stingy and withheld: credits at most `limit` per stream and for the connection.
  void release(nghttp2_session* session, std::uint64_t limit);
  // Consumed bytes not credited back yet, on some stream or the connection.
  bool pending(nghttp2_session* session) const;
  std::uint64_t updates_sent() const { return updates_sent_; }

 private:
  bool update(nghttp2_session* session, std::int32_t stream_id, std::uint64_t increment);

  PeerWindow policy_;
  std::uint32_t initial_window_;
  std::uint32_t connection_window_;
  std::map<std::int32_t, std::uint64_t> stream_credit_;  // DATA consumed, not yet credited
  std::uint64_t updates_sent_ = 0;
};

}  // namespace emitlab::sim
