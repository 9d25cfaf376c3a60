#include "core/server_connection.h"

#include "core/assert.h"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace emitlab {

class ServerConnection::Entry {
 public:
  explicit Entry(ServerConnection& c) : c_(c) { ++c_.depth_; }
  ~Entry() {
    if (c_.depth_ == 1) c_.run_scheduled();
    --c_.depth_;
  }
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

 private:
  ServerConnection& c_;
};

ServerConnection::ServerConnection(SSL_CTX* ctx, const ConnectionConfig& config,
                                   Transport& transport, RequestHandler& handler,
                                   Allocator& allocator)
    : config_(with_safe_rings(config)),
      handler_(&handler),
      allocator_(&allocator),
      heap_(allocator),
      emitter_(config.emitter_factory ? config.emitter_factory(config.strategy, heap_)
                                      : make_emitter(config.strategy, heap_, config.mutant)),
      tls_(ctx, config_.rings, transport, *this),
      session_(std::make_unique<H2ServerSession>(static_cast<SessionListener&>(*this), allocator,
                                                 config.mutant)) {
  if (config_.pass_history == 0) throw std::invalid_argument("pass_history must be at least 1");
  attach(&outside_);
  tls_.set_invariant_log(&invariants_);
  tls_.arm(config.mutant);
}

ConnectionConfig ServerConnection::with_safe_rings(ConnectionConfig config) {
  const std::size_t needed = min_plaintext_ring(config.strategy, config.rings.cipher_out_bytes());
  if (config.rings.plaintext_ring < needed) config.rings.plaintext_ring = needed;
  return config;
}

ServerConnection::~ServerConnection() {
  release_streams_and_scratch();
  session_.reset();  // nghttp2 frees through the port, charged to outside_ while it still lives
}

void ServerConnection::release_streams_and_scratch() {
  attach(&outside_);
  session_->cancel_open_streams();  // each close reaches the emitter (A3's references)
  emitter_->release_scratch();
}

void ServerConnection::attach(PassRecord* record) {
  current_ = record;
  tls_.attach(record);
  heap_.attach(record);
  if (session_) session_->attach(record);
}

void ServerConnection::set_pass_observer(std::function<void(const PassRecord&)> observer) {
  observer_ = std::move(observer);
}

void ServerConnection::set_pass_begin_observer(std::function<void(std::uint64_t)> observer) {
  begin_observer_ = std::move(observer);
}

void ServerConnection::on_ciphertext(std::span<const std::uint8_t> ciphertext) {
  Entry entry(*this);
  tls_.feed(ciphertext);
}

void ServerConnection::on_write_complete(std::size_t bytes) {
  Entry entry(*this);
  tls_.on_write_complete(bytes);
}

bool ServerConnection::submit_response(std::int32_t stream_id, ResponseRef response) {
  Entry entry(*this);
  // Upstream pins before nghttp2_submit_response, whatever its result.
  if (response && response->body().size() > config_.strategy.threshold) latch_large(stream_id);
  return session_->submit_response(stream_id, std::move(response));
}

bool ServerConnection::submit_streaming_response(std::int32_t stream_id, ResponseRef head) {
  Entry entry(*this);
  const bool ok = session_->submit_streaming_response(stream_id, std::move(head));
  if (ok) latch_large(stream_id);  // size unknown: always large
  return ok;
}

void ServerConnection::latch_large(std::int32_t stream_id) {
  if (config_.strategy.base != StrategyBase::Hybrid) return;
  ServerStream* st = session_->find(stream_id);
  if (st != nullptr && session_->latch(*st)) ++large_streams_pending_;
}

bool ServerConnection::append_body_chunk(std::int32_t stream_id,
                                         std::span<const std::uint8_t> bytes) {
  Entry entry(*this);
  ResponseObject::Spec spec;
  spec.body_size = bytes.size();
  try {
    ResponseRef chunk(
        ResponseObject::create(*allocator_, std::move(spec), [bytes](std::span<std::uint8_t> out) {
          std::copy(bytes.begin(), bytes.end(), out.begin());
        }));
    return session_->append_body_chunk(stream_id, std::move(chunk));
  } catch (const std::bad_alloc&) {
    // A lost chunk can never be delivered: the stream ends in a reset, not a short body.
    session_->reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
    return false;
  }
}

bool ServerConnection::end_body(std::int32_t stream_id) {
  Entry entry(*this);
  return session_->end_body(stream_id);
}

bool ServerConnection::reset_stream(std::int32_t stream_id, std::uint32_t error_code) {
  Entry entry(*this);
  return session_->reset_stream(stream_id, error_code);
}

void ServerConnection::shutdown() {
  Entry entry(*this);
  if (shutting_down_ || failed()) return;
  shutting_down_ = true;
  session_->submit_goaway();
}

void ServerConnection::on_transport_closed(std::string_view reason) {
  if (!failed() && !closed())
    tls_.fail(FailureKind::Transport, "transport closed: " + std::string(reason));
  emit_scheduled_ = false;
  release_streams_and_scratch();
}

void ServerConnection::run_scheduled() {
  while (emit_scheduled_ && !tls_.failed()) {
    emit_scheduled_ = false;
    run_pass();
  }
  close_if_session_over();
}

void ServerConnection::close_if_session_over() {
  // A session that wants neither to read nor to write is over (GOAWAY exchanged, or nghttp2
  // ended it): its last frames are out, so the TLS connection closes after them.
  if (tls_.state() != TlsConnection::State::Established || emitter_->holds_unsent_bytes()) return;
  if (session_->want_read() || session_->want_write()) return;
  shutting_down_ = true;
  tls_.close_gracefully();
  // nghttp2 ended the session with streams still open (it terminated on a flood or an error):
  // nothing will ever close them, so what they hold goes now, not at destruction.
  if (session_->open_streams() > 0) release_streams_and_scratch();
}

void ServerConnection::run_pass() {
  if (tls_.state() != TlsConnection::State::Established) return;
  EMITLAB_ASSERT(current_ == &outside_);  // passes never nest
  trim_history();
  PassRecord& record = passes_.emplace_back();
  record.index = ++pass_count_;
  attach(&record);
  if (begin_observer_) begin_observer_(record.index);
  if (session_->in_callback()) {
    tls_.violation(Rule::NoSendInCallback, "emit pass requested inside an nghttp2 callback");
  }
  EmitContext ctx{tls_, *session_, heap_, record, large_streams_pending_};
  try {
    emitter_->run_pass(ctx);
  } catch (const std::bad_alloc&) {
    session_->attach_sink(nullptr);
    tls_.fail(FailureKind::Allocation,
              "allocation failed in emit pass " + std::to_string(record.index));
  }
  record.drain_slice_parked = emitter_->holds_unsent_bytes();
  record.gather_frame_deferred = emitter_->holds_deferred_frame();
  record.latch_counter = large_streams_pending_;
  record.latched_open = session_->latched_open_streams();
  attach(&outside_);
  EMITLAB_ASSERT(record.index == pass_count_);
  pass_sums_ += record;
  if (observer_) observer_(record);
}

void ServerConnection::trim_history() {
  // Dropping the oldest half once the list holds twice the window keeps the cost per pass
  // constant; the running sums already hold every dropped record.
  const std::size_t keep = config_.pass_history;
  if (keep == kKeepAllPasses || passes_.size() < 2 * keep) return;
  passes_.erase(passes_.begin(), passes_.begin() + static_cast<std::ptrdiff_t>(keep));
}

PassRecord ServerConnection::totals() const {
  PassRecord sum = outside_;
  sum += pass_sums_;
  return sum;
}

void ServerConnection::on_established() {
  request_emit();
}

bool ServerConnection::on_app_data(std::span<const std::uint8_t> data) {
  if (!session_->feed(data)) return false;
  if (config_.mutant == Mutant::SecondDrainCursor) drain_on_read_path();  // bug zoo
  return true;
}

// The second-drain-cursor mutant (#219): the read path drains nghttp2 itself, straight into
// the plaintext ring, past whatever slice the emitter holds parked (its pointer into nghttp2's
// buffer goes stale with the next mem_send). What the ring refuses is lost, as upstream's
// send(2) refusals were.
void ServerConnection::drain_on_read_path() {
  const std::uint8_t* data = nullptr;
  for (ssize_t n; !tls_.failed() && (n = nghttp2_session_mem_send(session_->raw(), &data)) > 0;) {
    const auto len = static_cast<std::size_t>(n);
    const std::size_t fits = std::min(len, tls_.plaintext_write_guarantee());
    tls_.write_plaintext({data, fits}, CopySite::PlaintextRing);
  }
}

void ServerConnection::emit_now() {
  run_scheduled();
}

void ServerConnection::on_cipher_complete() {
  request_emit();
}

bool ServerConnection::plaintext_queued() const {
  return emitter_->holds_unsent_bytes() || session_->want_write();
}

void ServerConnection::on_request(ServerStream& stream) {
  handler_->on_request(*this, stream);
}

void ServerConnection::request_emit() {
  emit_scheduled_ = true;
}

void ServerConnection::on_stream_close(ServerStream& stream, std::uint32_t) {
  if (stream.counted_large && large_streams_pending_ > 0) {
    --large_streams_pending_;
    session_->unlatch(stream);
  }
  emitter_->on_stream_close(stream, current_ != &outside_, current_);
}

std::string ServerConnection::validate() const {
  if (depth_ != 0) return "validate() called from inside the connection";
  if (current_ != &outside_) return "a pass record is still attached between calls";
  if (config_.pass_history != kKeepAllPasses && passes_.size() > 2 * config_.pass_history) {
    return "the pass history outgrew twice its window";
  }
  if (large_streams_pending_ != session_->latched_open_streams()) {
    return "hybrid's latch counter " + std::to_string(large_streams_pending_) +
           " != " + std::to_string(session_->latched_open_streams()) + " latched open streams";
  }
  for (std::string why : {tls_.validate(), session_->validate(), emitter_->validate()}) {
    if (!why.empty()) return why;
  }
  return {};
}

}  // namespace emitlab
