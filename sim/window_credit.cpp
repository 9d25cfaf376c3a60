#include "sim/window_credit.h"

#include <algorithm>

namespace emitlab::sim {
namespace {

// DATA the connection received and has not credited back, counted by nghttp2 itself as it
// arrives: that includes DATA nghttp2 dropped on streams this peer had reset, which no callback
// sees (not even the end of a frame whose stream the peer reset half way), and which a real
// client's automatic updates return too; counting only delivered frames starved the server's
// connection window after a few mid-body resets (W1). Submitting a WINDOW_UPDATE lowers
// nghttp2's count at once.
std::uint64_t connection_credit(nghttp2_session* session) {
  if (session == nullptr) return 0;
  const std::int32_t received = nghttp2_session_get_effective_recv_data_length(session);
  return received > 0 ? static_cast<std::uint64_t>(received) : 0;
}

}  // namespace

std::uint32_t WindowCredit::announced_stream_window() const {
  return policy_ == PeerWindow::Wide ? NGHTTP2_MAX_WINDOW_SIZE : initial_window_;
}

std::int32_t WindowCredit::announced_connection_window() const {
  return policy_ == PeerWindow::Wide ? NGHTTP2_MAX_WINDOW_SIZE
                                     : static_cast<std::int32_t>(connection_window_);
}

void WindowCredit::consumed(std::int32_t stream_id, std::uint64_t length) {
  const auto it = stream_credit_.find(stream_id);
  if (it != stream_credit_.end()) it->second += length;
}

std::uint64_t WindowCredit::stream_credit(std::int32_t stream_id) const {
  const auto it = stream_credit_.find(stream_id);
  return it == stream_credit_.end() ? 0 : it->second;
}

bool WindowCredit::update(nghttp2_session* session, std::int32_t stream_id,
                          std::uint64_t increment) {
  if (nghttp2_submit_window_update(session, NGHTTP2_FLAG_NONE, stream_id,
                                   static_cast<std::int32_t>(increment)) != 0) {
    return false;
  }
  ++updates_sent_;
  return true;
}

void WindowCredit::apply(nghttp2_session* session) {
  const bool eager = policy_ == PeerWindow::Eager;
  if (!eager && policy_ != PeerWindow::Half) return;
  for (auto& [id, credit] : stream_credit_) {
    if (credit > 0 && (eager || credit >= initial_window_ / 2)) {
      if (update(session, id, credit)) credit = 0;
    }
  }
  const std::uint64_t connection = connection_credit(session);
  if (connection > 0 && (eager || connection >= connection_window_ / 2)) {
    update(session, 0, connection);
  }
}

void WindowCredit::release(nghttp2_session* session, std::uint64_t limit) {
  for (auto& [id, credit] : stream_credit_) {
    const std::uint64_t inc = std::min(credit, limit);
    if (inc > 0 && update(session, id, inc)) credit -= inc;
  }
  const std::uint64_t inc = std::min(connection_credit(session), limit);
  if (inc > 0) update(session, 0, inc);
}

bool WindowCredit::pending(nghttp2_session* session) const {
  if (connection_credit(session) > 0) return true;
  return std::any_of(stream_credit_.begin(), stream_credit_.end(),
                     [](const auto& entry) { return entry.second > 0; });
}

}  // namespace emitlab::sim
