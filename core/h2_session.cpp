#include "core/h2_session.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/assert.h"
#include "core/wire_limits.h"

namespace emitlab {
namespace {

constexpr std::int32_t kConnectionWindow = 16 * 1024 * 1024;

nghttp2_nv make_nv(const std::string& name, const std::string& value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

// The nv array of `headers`, after `leading` when given (a field the table does not hold). The
// array points into the strings: nghttp2 copies them at submit, so they need only outlive it.
std::vector<nghttp2_nv> make_nva(const HeaderTable& headers,
                                 std::optional<nghttp2_nv> leading = std::nullopt) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + (leading ? 1 : 0));
  if (leading) nva.push_back(*leading);
  for (const auto& h : headers) nva.push_back(make_nv(h.name, h.value));
  return nva;
}

// Room reserved for a request's header fields (four pseudo-headers and a few more), so the
// table is usually allocated once rather than grown field by field.
constexpr std::size_t kTypicalRequestFields = 8;

// Counts every callback frame so a send from inside a callback can be detected.
struct CallbackScope {
  explicit CallbackScope(int& depth) : depth_(depth) { ++depth_; }
  ~CallbackScope() { --depth_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
  int& depth_;
};

}  // namespace

struct H2ServerSession::Callbacks {
  static H2ServerSession& self(void* user_data) {
    return *static_cast<H2ServerSession*>(user_data);
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    auto& s = self(ud);
    CallbackScope scope(s.callback_depth_);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto stream = std::make_unique<ServerStream>();
    stream->id = frame->hd.stream_id;
    stream->request.reserve(kTypicalRequestFields);
    // nghttp2 has just opened the stream it reports: it exists.
    EMITLAB_ASSERT(
        nghttp2_session_set_stream_user_data(s.session_.get(), stream->id, stream.get()) == 0);
    s.streams_[stream->id] = std::move(stream);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* ud) {
    auto& s = self(ud);
    CallbackScope scope(s.callback_depth_);
    if (ServerStream* st = s.find(frame->hd.stream_id)) {
      st->request.push_back({std::string(reinterpret_cast<const char*>(name), namelen),
                             std::string(reinterpret_cast<const char*>(value), valuelen)});
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* ud) {
    auto& s = self(ud);
    CallbackScope scope(s.callback_depth_);
    switch (frame->hd.type) {
      case NGHTTP2_DATA:
        if (frame->hd.length == 0 && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
          if (++s.empty_data_run_ > FloodLimits::kMaxEmptyDataFrames) {
            s.note_flood(Flood::EmptyData,
                         std::to_string(s.empty_data_run_) + " empty DATA frames in a row (limit " +
                             std::to_string(FloodLimits::kMaxEmptyDataFrames) + ")");
          }
        } else {
          s.empty_data_run_ = 0;
        }
        [[fallthrough]];
      case NGHTTP2_HEADERS:
        if (frame->hd.type == NGHTTP2_HEADERS) s.empty_data_run_ = 0;
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
          ServerStream* st = s.find(frame->hd.stream_id);
          // Nothing may unwind through nghttp2's C frames: a handler that cannot allocate
          // fails the session instead.
          try {
            if (st != nullptr) s.listener_->on_request(*st);
          } catch (const std::exception&) {
            return NGHTTP2_ERR_CALLBACK_FAILURE;
          }
        }
        break;
      case NGHTTP2_WINDOW_UPDATE:
        // Upstream a057120: a window that reopens must re-drive the emit.
        if (s.mutant_ != Mutant::NoWindowRedrive) s.listener_->request_emit();  // bug zoo
        if (s.mutant_ == Mutant::EmitInsideCallback) s.listener_->emit_now();   // bug zoo
        break;
      case NGHTTP2_PING:
        // Automatic PING ACK is off (upstream bf7e86b); answer once, on the next pass.
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
          // FLOODED: the ACKs already queued reached max_outbound_ack (the peer does not read).
          // Dropping this ACK silently would leave the peer waiting for ever.
          if (nghttp2_submit_ping(session, NGHTTP2_FLAG_ACK, frame->ping.opaque_data) ==
              NGHTTP2_ERR_FLOODED) {
            s.note_flood(Flood::PingAck, "more than " +
                                             std::to_string(FloodLimits::kMaxOutboundAck) +
                                             " PING ACKs queued (max_outbound_ack)");
          }
          s.listener_->request_emit();
        }
        break;
      case NGHTTP2_RST_STREAM:
        if (++s.peer_resets_ > FloodLimits::kMaxPeerResets) {
          s.note_flood(Flood::Reset, std::to_string(s.peer_resets_) +
                                         " RST_STREAM frames from the peer (limit " +
                                         std::to_string(FloodLimits::kMaxPeerResets) + ")");
        }
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk_recv(nghttp2_session* session, std::uint8_t, std::int32_t stream_id,
                                const std::uint8_t*, std::size_t len, void* ud) {
    CallbackScope scope(self(ud).callback_depth_);
    // Manual window consume, as upstream; it fails only on a bad argument or automatic windows.
    EMITLAB_ASSERT(nghttp2_session_consume(session, stream_id, len) == 0);
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    auto& s = self(ud);
    if (s.record_ != nullptr) ++s.record_->frames;
    // nghttp2 ends a session on its own (a peer protocol error, an allocation failure while
    // packing) by sending GOAWAY with an error: the connection has failed.
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR &&
        s.error_.empty()) {
      s.error_ = "HTTP/2 session terminated with GOAWAY " +
                 std::string(nghttp2_http2_strerror(frame->goaway.error_code));
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* ud) {
    auto& s = self(ud);
    CallbackScope scope(s.callback_depth_);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end()) return 0;
    ServerStream& st = *it->second;
    s.listener_->on_stream_close(st, error_code);
    ++s.streams_closed_;
    if (error_code != NGHTTP2_NO_ERROR) ++s.streams_reset_;
    if (st.response && !st.response->immutable() && s.record_ != nullptr) {
      ++s.record_->owner_releases;
    }
    const bool destroyed = st.response.reset();
    if (destroyed && s.record_ != nullptr) ++s.record_->objects_destroyed;
    s.erase(it);
    return 0;
  }

  static ssize_t send(nghttp2_session*, const std::uint8_t* data, std::size_t length, int,
                      void* ud) {
    auto& s = self(ud);
    if (s.sink_ == nullptr) return NGHTTP2_ERR_WOULDBLOCK;
    return s.sink_->on_send({data, length});
  }

  static int send_data(nghttp2_session*, nghttp2_frame*, const std::uint8_t* framehd,
                       std::size_t length, nghttp2_data_source* source, void* ud) {
    auto& s = self(ud);
    // Upstream returns CALLBACK_FAILURE here: a NO_COPY frame met a pass without gather state.
    if (s.sink_ == nullptr) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return s.sink_->on_send_data(framehd, length, *static_cast<ServerStream*>(source->ptr));
  }

  static ssize_t read_body(nghttp2_session* session, std::int32_t, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* flags, nghttp2_data_source* source,
                           void* ud) {
    auto& s = self(ud);
    auto& st = *static_cast<ServerStream*>(source->ptr);
    if (st.streaming) return read_stream_chunks(s, st, buf, length, flags, session);
    const auto body = st.response->body();
    const std::size_t left = body.size() - st.body_offset;
    const std::size_t n = left < length ? left : length;
    if (s.sink_ != nullptr) {
      *flags |= NGHTTP2_DATA_FLAG_NO_COPY;  // the sink takes the bytes from the body itself
    } else if (n > 0) {                     // an empty body has no storage to copy from
      std::memcpy(buf, body.data() + st.body_offset, n);
      st.body_offset += n;
      s.count_copy(n);
    }
    if (left <= length) end_of_body(session, st, flags);
    return static_cast<ssize_t>(n);
  }

  // Streaming: copy what is queued; DEFERRED while the queue is empty and the body goes on.
  static ssize_t read_stream_chunks(H2ServerSession& s, ServerStream& st, std::uint8_t* buf,
                                    std::size_t length, std::uint32_t* flags,
                                    nghttp2_session* session) {
    std::size_t n = 0;
    while (n < length && !st.chunks.empty()) {
      const auto chunk = st.chunks.front()->body();
      const std::size_t take = std::min(length - n, chunk.size() - st.chunk_offset);
      std::memcpy(buf + n, chunk.data() + st.chunk_offset, take);
      n += take;
      st.chunk_offset += take;
      if (st.chunk_offset == chunk.size()) s.pop_chunk(st);
    }
    s.count_copy(n);
    if (st.chunks.empty()) {
      if (st.body_ended) {
        end_of_body(session, st, flags);
      } else if (n == 0) {
        st.deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    return static_cast<ssize_t>(n);
  }

  static void end_of_body(nghttp2_session* session, ServerStream& st, std::uint32_t* flags) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st.response->trailers().empty() || st.trailers_submitted) return;
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    const auto nva = make_nva(st.response->trailers());
    nghttp2_submit_trailer(session, st.id, nva.data(), nva.size());
    st.trailers_submitted = true;
  }
};

namespace {

// nghttp2's allocations go through the connection's Allocator port, counted per pass.
struct MemHook {
  static H2ServerSession::MemRoute& route(void* ud) {
    return *static_cast<H2ServerSession::MemRoute*>(ud);
  }
  static AllocTag tag(const H2ServerSession::MemRoute& r) {
    return {AllocOwner::Nghttp2, AllocSite::GatherList, r.record ? r.record->index : 0};
  }
  static void* malloc(std::size_t size, void* ud) {
    auto& r = route(ud);
    if (r.record != nullptr) ++r.record->nghttp2_allocs;
    return r.alloc->allocate(size, tag(r));
  }
  static void free(void* ptr, void* ud) {
    if (ptr == nullptr) return;
    auto& r = route(ud);
    if (r.record != nullptr) ++r.record->nghttp2_frees;
    r.alloc->deallocate(ptr, tag(r));
  }
  static void* calloc(std::size_t n, std::size_t size, void* ud) {
    if (size != 0 && n > SIZE_MAX / size) return nullptr;
    void* p = malloc(n * size, ud);
    if (p != nullptr) std::memset(p, 0, n * size);
    return p;
  }
  static void* realloc(void* ptr, std::size_t size, void* ud) {
    auto& r = route(ud);
    if (r.record != nullptr) {
      if (ptr != nullptr) ++r.record->nghttp2_frees;
      if (size != 0) ++r.record->nghttp2_allocs;
    }
    return r.alloc->reallocate(ptr, size, tag(r));
  }
};

}  // namespace

nghttp2_mem H2ServerSession::counting_mem(H2ServerSession* self) {
  return {&self->mem_route_, MemHook::malloc, MemHook::free, MemHook::calloc, MemHook::realloc};
}

H2ServerSession::H2ServerSession(SessionListener& listener, Allocator& allocator, Mutant mutant)
    : listener_(&listener), mutant_(mutant), mem_route_{&allocator, nullptr} {
  nghttp2_session_callbacks* raw_cbs = nullptr;
  EMITLAB_ASSERT(nghttp2_session_callbacks_new(&raw_cbs) == 0);  // libc's malloc, not the port
  NgCallbacksPtr cbs(raw_cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw_cbs, &Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(raw_cbs, &Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw_cbs, &Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw_cbs,
                                                            &Callbacks::on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(raw_cbs, &Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw_cbs, &Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_send_callback(raw_cbs, &Callbacks::send);
  nghttp2_session_callbacks_set_send_data_callback(raw_cbs, &Callbacks::send_data);

  nghttp2_option* raw_opt = nullptr;
  EMITLAB_ASSERT(nghttp2_option_new(&raw_opt) == 0);
  NgOptionPtr opt(raw_opt);
  nghttp2_option_set_max_settings(raw_opt, 32);
  nghttp2_option_set_max_outbound_ack(raw_opt, FloodLimits::kMaxOutboundAck);
  // nghttp2's own reset limiter as a backstop one above ours, with no refill (a refill would
  // depend on the host's clock); note_flood() answers first, with ENHANCE_YOUR_CALM.
  nghttp2_option_set_stream_reset_rate_limit(raw_opt, FloodLimits::kMaxPeerResets + 1, 0);
  nghttp2_option_set_no_auto_window_update(raw_opt, 1);
  // Bug zoo: ping-answered-twice lets nghttp2 answer too, besides on_frame_recv's manual ACK.
  nghttp2_option_set_no_auto_ping_ack(raw_opt, mutant_ == Mutant::PingAnsweredTwice ? 0 : 1);

  nghttp2_mem mem = counting_mem(this);
  nghttp2_session* raw = nullptr;
  if (nghttp2_session_server_new3(&raw, raw_cbs, this, raw_opt, &mem) != 0) {
    throw std::runtime_error("nghttp2_session_server_new3 failed");
  }
  session_.reset(raw);

  const std::array<nghttp2_settings_entry, 6> settings{{
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65535},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 * 1024},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, kMaxFramePayload},
  }};
  if (nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, settings.data(), settings.size()) != 0 ||
      nghttp2_session_set_local_window_size(raw, NGHTTP2_FLAG_NONE, 0, kConnectionWindow) != 0) {
    error_ = "could not queue the server's SETTINGS and connection window";
  }
}

H2ServerSession::~H2ServerSession() {
  cancel_open_streams();
}

void H2ServerSession::cancel_open_streams() {
  while (!streams_.empty()) {
    auto it = streams_.begin();
    listener_->on_stream_close(*it->second, NGHTTP2_CANCEL);
    erase(it);
  }
}

void H2ServerSession::erase(std::map<std::int32_t, std::unique_ptr<ServerStream>>::iterator it) {
  unlatch(*it->second);  // the count is of open streams
  streams_.erase(it);
}

bool H2ServerSession::latch(ServerStream& st) {
  if (st.counted_large) return false;
  st.counted_large = true;
  ++latched_open_;
  return true;
}

bool H2ServerSession::unlatch(ServerStream& st) {
  if (!st.counted_large) return false;
  EMITLAB_ASSERT(latched_open_ > 0);
  st.counted_large = false;
  --latched_open_;
  return true;
}

ServerStream* H2ServerSession::find(std::int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool H2ServerSession::feed(std::span<const std::uint8_t> data) {
  const ssize_t rv = nghttp2_session_mem_recv(session_.get(), data.data(), data.size());
  // nghttp2 checks the SETTINGS ACK queue before it acts on a SETTINGS frame and returns
  // FLOODED (fatal for the input, which is dropped); the session can still send its GOAWAY.
  if (rv == NGHTTP2_ERR_FLOODED) {
    note_flood(Flood::SettingsAck, "more than " + std::to_string(FloodLimits::kMaxOutboundAck) +
                                       " SETTINGS ACKs queued (max_outbound_ack)");
  }
  defend_if_flooded();
  if (rv < 0 && flood_ == Flood::None) return false;
  // Bug zoo: under no-window-redrive only frames nghttp2 queued itself (ACKs, resets) ask for
  // a pass, not DATA a reopened window let go.
  const bool wants = mutant_ == Mutant::NoWindowRedrive
                         ? nghttp2_session_get_outbound_queue_size(session_.get()) > 0
                         : nghttp2_session_want_write(session_.get()) != 0;
  if (wants) listener_->request_emit();
  return true;
}

void H2ServerSession::note_flood(Flood kind, std::string detail) {
  if (flood_ != Flood::None) return;
  flood_ = kind;
  if (error_.empty()) {
    error_ = "the peer flooded (" + std::string(to_string(kind)) + "): " + detail +
             "; GOAWAY ENHANCE_YOUR_CALM";
  }
}

void H2ServerSession::defend_if_flooded() {
  if (flood_ == Flood::None || goaway_queued_) return;
  goaway_queued_ = true;
  // TERM_ON_SEND: nghttp2 drops the queued ACKs, ignores further input, sends the GOAWAY and
  // then wants neither to read nor to write, so the connection closes after it.
  if (nghttp2_session_terminate_session(session_.get(), NGHTTP2_ENHANCE_YOUR_CALM) != 0) {
    error_ += " (the GOAWAY could not be queued)";
  }
  listener_->request_emit();
}

std::string_view to_string(Flood f) {
  switch (f) {
    case Flood::None:
      return "none";
    case Flood::PingAck:
      return "PING";
    case Flood::SettingsAck:
      return "SETTINGS";
    case Flood::Reset:
      return "RST_STREAM";
    case Flood::EmptyData:
      return "empty DATA";
  }
  return "?";
}

bool H2ServerSession::submit_response(std::int32_t stream_id, ResponseRef response) {
  ServerStream* st = find(stream_id);
  return st != nullptr && submit(*st, std::move(response), false);
}

bool H2ServerSession::submit_streaming_response(std::int32_t stream_id, ResponseRef head) {
  ServerStream* st = find(stream_id);
  return st != nullptr && submit(*st, std::move(head), true);
}

bool H2ServerSession::submit(ServerStream& st, ResponseRef response, bool streaming) {
  if (st.responded || !response) return false;
  // :status goes in front of the response's own table, which is not copied for it.
  static const std::string kStatus = ":status";
  const std::string status = std::to_string(response->status());
  const auto nva = make_nva(response->headers(), make_nv(kStatus, status));
  st.response = std::move(response);
  st.body_offset = 0;
  st.responded = true;
  st.streaming = streaming;
  nghttp2_data_provider provider{};
  provider.source.ptr = &st;
  provider.read_callback = &Callbacks::read_body;
  const bool has_body =
      streaming || !st.response->body().empty() || !st.response->trailers().empty();
  const int rv = nghttp2_submit_response(session_.get(), st.id, nva.data(), nva.size(),
                                         has_body ? &provider : nullptr);
  listener_->request_emit();
  if (rv != 0) refuse(st);
  return rv == 0;
}

void H2ServerSession::refuse(ServerStream& st) {
  // A stream nobody can answer must end: reset it, or give the session up.
  if (nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, st.id, NGHTTP2_INTERNAL_ERROR) !=
          0 &&
      error_.empty()) {
    error_ = "could not respond to or reset stream " + std::to_string(st.id);
  }
}

bool H2ServerSession::append_body_chunk(std::int32_t stream_id, ResponseRef chunk) {
  ServerStream* st = find(stream_id);
  if (st == nullptr || !st->streaming || st->body_ended || !chunk) return false;
  if (chunk->body().empty()) return true;
  st->chunks.push_back(std::move(chunk));
  resume_if_deferred(*st);
  return true;
}

bool H2ServerSession::end_body(std::int32_t stream_id) {
  ServerStream* st = find(stream_id);
  if (st == nullptr || !st->streaming || st->body_ended) return false;
  st->body_ended = true;
  resume_if_deferred(*st);
  return true;
}

void H2ServerSession::resume_if_deferred(ServerStream& st) {
  if (st.deferred) {
    st.deferred = false;
    // The stream is open (a closed one left streams_) and its data is deferred: resume holds.
    EMITLAB_ASSERT(nghttp2_session_resume_data(session_.get(), st.id) == 0);
  }
  listener_->request_emit();
}

bool H2ServerSession::reset_stream(std::int32_t stream_id, std::uint32_t error_code) {
  ServerStream* st = find(stream_id);
  if (st == nullptr) return false;
  const int rv =
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, error_code);
  listener_->request_emit();
  if (rv != 0 && error_.empty()) error_ = "could not reset stream " + std::to_string(stream_id);
  return rv == 0;
}

void H2ServerSession::count_copy(std::size_t n) {
  if (record_ != nullptr) record_->copied[static_cast<std::size_t>(CopySite::ProviderCopy)] += n;
}

void H2ServerSession::pop_chunk(ServerStream& st) {
  const bool destroyed = st.chunks.front().reset();
  if (record_ != nullptr) {
    ++record_->owner_releases;
    if (destroyed) ++record_->objects_destroyed;
  }
  st.chunks.pop_front();
  st.chunk_offset = 0;
}

void H2ServerSession::submit_goaway() {
  nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_.get()), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  listener_->request_emit();
}

bool H2ServerSession::want_write() const {
  return nghttp2_session_want_write(session_.get()) != 0;
}
bool H2ServerSession::want_read() const {
  return nghttp2_session_want_read(session_.get()) != 0;
}

std::string H2ServerSession::validate() const {
  if (callback_depth_ != 0) return "validate() called from inside an nghttp2 callback";
  if (sink_ != nullptr) return "an emit sink is still attached between passes";
  if (mem_route_.record != record_) return "nghttp2's allocations go to another pass record";
  if (streams_reset_ > streams_closed_) return "more streams reset than closed";
  if (goaway_queued_ && flood_ == Flood::None) return "ENHANCE_YOUR_CALM queued with no flood";
  if (flood_ != Flood::None && error_.empty()) return "a flood without an error";
  std::uint32_t latched = 0;
  for (const auto& [id, st] : streams_) {
    const std::string at = "stream " + std::to_string(id) + ": ";
    if (st == nullptr || st->id != id) return at + "keyed under another id";
    if (id <= 0 || id % 2 == 0) return at + "not a client-initiated stream id";
    if (st->responded != static_cast<bool>(st->response)) return at + "responded without a body";
    if (st->responded && !st->streaming && st->body_offset > st->response->body().size()) {
      return at + "body offset past the body";
    }
    if (st->chunks.empty() ? st->chunk_offset != 0
                           : st->chunk_offset >= st->chunks.front()->body().size()) {
      return at + "chunk offset outside the front chunk";
    }
    if (st->emitter_ref != nullptr && !st->emitter_ref_taken) {
      return at + "an emitter reference that was never taken";
    }
    if (!st->streaming && (st->deferred || !st->chunks.empty())) {
      return at + "streaming state on a whole-body stream";
    }
    latched += st->counted_large ? 1 : 0;
  }
  // The walk latched_open_streams() no longer makes: the count kept as flags change.
  if (latched != latched_open_) {
    return "latched open streams counted " + std::to_string(latched_open_) + ", " +
           std::to_string(latched) + " flagged";
  }
  return {};
}

}  // namespace emitlab
