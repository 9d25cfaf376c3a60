#include "bench/fleet.h"

#include <utility>

#include "sim/workload.h"

namespace emitlab::bench {

std::span<const std::uint8_t> Recording::chunk(const Event& e) const {
  return std::span<const std::uint8_t>(arena).subspan(e.offset, e.length);
}

void Handler::on_request(ServerConnection& connection, ServerStream& stream) {
  const auto id = sim::Workload::request_id_from_path(stream.request);
  if (!id) {
    ++unanswered_;
    return;
  }
  ResponseObject::Spec spec;
  spec.headers = response_headers(*id);
  spec.body_size = body_;
  const auto bytes = bodies_->body(*id, body_);
  auto fill = [bytes](std::span<std::uint8_t> out) {
    std::copy(bytes.begin(), bytes.end(), out.begin());
  };
  connection.submit_response(
      stream.id, ResponseRef(ResponseObject::create(*allocator_, std::move(spec), fill)));
}

struct Fleet::Member {
  Member(const Plan& plan, const BodyPool& bodies, SSL_CTX* ctx, Allocator& port, bool hash)
      : link(sim::SimLink::Options{.hash = hash}), handler(bodies, plan.body, port) {
    ConnectionConfig config;
    config.strategy = plan.spec;
    config.pass_history = kKeepAllPasses;  // figures.cpp reads the records since a mark
    connection = std::make_unique<ServerConnection>(ctx, config, link, handler, port);
  }
  sim::SimLink link;
  Handler handler;
  std::unique_ptr<ServerConnection> connection;
};

Fleet::Fleet(const Plan& plan, const BodyPool& bodies, SSL_CTX* server_ctx, const PortOf& port,
             bool hash) {
  members_.reserve(plan.shape.connections);
  for (std::uint32_t i = 0; i < plan.shape.connections; ++i) {
    members_.push_back(std::make_unique<Member>(plan, bodies, server_ctx, port(i), hash));
  }
}

Fleet::~Fleet() = default;

ServerConnection& Fleet::connection(std::uint32_t i) {
  return *members_[i]->connection;
}
sim::SimLink& Fleet::link(std::uint32_t i) {
  return members_[i]->link;
}

bool Fleet::apply(const Recording& recording, const Event& e) {
  Member& m = *members_[e.connection];
  switch (e.kind) {
    case EventKind::Feed:
      m.connection->on_ciphertext(recording.chunk(e));
      return true;
    case EventKind::Complete:
      if (m.link.inflight().size() != e.length) {
        error_ = "replay diverged: connection " + std::to_string(e.connection) + " had " +
                 std::to_string(m.link.inflight().size()) + " bytes in flight, the recording " +
                 std::to_string(e.length);
        return false;
      }
      m.link.take();
      m.connection->on_write_complete(e.length);
      return true;
    case EventKind::Shutdown:
      m.connection->shutdown();
      return true;
  }
  return false;
}

bool Fleet::replay(const Recording& recording, const std::vector<Event>& events) {
  for (const Event& e : events) {
    if (!apply(recording, e)) return false;
  }
  return true;
}

void Fleet::mark_all() {
  marks_.clear();
  wire_marks_.clear();
  for (const auto& m : members_) {
    marks_.push_back(mark(*m->connection));
    wire_marks_.push_back(m->link.submitted_bytes());
  }
}

PhaseFigures Fleet::figures(std::uint32_t i) const {
  const Member& m = *members_[i];
  return since(*m.connection, marks_[i], m.link.submitted_bytes() - wire_marks_[i]);
}

PhaseFigures Fleet::figures() const {
  PhaseFigures sum;
  for (std::uint32_t i = 0; i < size(); ++i) sum += figures(i);
  return sum;
}

std::string Fleet::health() const {
  for (std::uint32_t i = 0; i < size(); ++i) {
    const Member& m = *members_[i];
    const std::string who = "connection " + std::to_string(i) + ": ";
    if (m.connection->failed()) return who + "server failed: " + m.connection->error();
    if (m.link.overlapped()) return who + "a write was submitted while another was in flight";
    if (m.handler.unanswered() != 0) return who + "a request without a /r/<id> path";
  }
  return {};
}

}  // namespace emitlab::bench
