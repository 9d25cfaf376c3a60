// The world's request handler for one connection: answers each request as the workload plans
// it (sim/workload.h): a buffered body filled on demand, the immutable shared body, or a
// streaming body produced chunk by chunk over virtual time, at once or after a chosen delay.
// The connection's events call respond_delayed() and produce_chunk() when their time comes.
#pragma once

#include <cstdint>
#include <map>

#include "core/response.h"
#include "core/server_connection.h"
#include "sim/server_call.h"
#include "sim/workload.h"

namespace emitlab::sim {

struct WorldContext;

class WorkloadHandler final : public RequestHandler {
 public:
  WorkloadHandler(WorldContext& world, std::uint32_t index, ServerCalls& calls)
      : w_(world), index_(index), calls_(calls) {}

  // The live server connection, or null once it is gone (work still due is then given up).
  void attach(ServerConnection* server) { server_ = server; }
  // The connection dropped: responses not given yet and bodies being produced are forgotten.
  void drop_pending();

  void on_request(ServerConnection& connection, ServerStream& stream) override;
  void respond_delayed(std::int32_t stream_id);  // EventKind::HandlerRespond
  void produce_chunk(std::int32_t stream_id);    // EventKind::StreamChunk

  // The handler's state for the explorer: streaming bodies (stream, offset) and delayed streams.
  template <class Add>
  void digest(Add&& add) const {
    for (const auto& [id, p] : producers_) {
      add(static_cast<std::uint64_t>(id));
      add(p.offset);
    }
    for (const auto& [id, d] : delayed_) add(static_cast<std::uint64_t>(id));
  }

 private:
  struct Producer {  // a streaming body being produced
    std::uint64_t request_id;
    ResponsePlan plan;
    std::uint64_t offset = 0;
  };
  struct Delayed {  // a response the handler has not given yet
    std::uint64_t request_id;
    HeaderTable request;
  };

  void respond(ServerConnection& server, std::int32_t stream_id, std::uint64_t request_id,
               const HeaderTable& request);
  void schedule_chunk(std::int32_t stream_id);

  WorldContext& w_;
  std::uint32_t index_;
  ServerCalls& calls_;
  ServerConnection* server_ = nullptr;
  std::map<std::int32_t, Producer> producers_;
  std::map<std::int32_t, Delayed> delayed_;
};

}  // namespace emitlab::sim
