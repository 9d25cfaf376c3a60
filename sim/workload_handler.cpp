#include "sim/workload_handler.h"

#include <algorithm>
#include <new>
#include <utility>
#include <vector>

#include "sim/counting_allocator.h"
#include "sim/world_context.h"

namespace emitlab::sim {

void WorkloadHandler::drop_pending() {
  producers_.clear();
  delayed_.clear();
}

void WorkloadHandler::on_request(ServerConnection& connection, ServerStream& stream) {
  const auto id = Workload::request_id_from_path(stream.request);
  if (!id) {
    ResponseObject::Spec spec;
    spec.status = 404;
    connection.submit_response(
        stream.id, ResponseRef(ResponseObject::create(w_.counting.port(index_), spec, nullptr)));
    return;
  }
  const std::uint64_t delay =
      w_.chooser.between(Decision::HandlerDelay, w_.scenario.workload.handler_delay_ns);
  if (delay == 0) return respond(connection, stream.id, *id, stream.request);
  delayed_[stream.id] = {*id, stream.request};
  w_.scheduler.after(delay, {EventKind::HandlerRespond, index_, stream.id});
}

void WorkloadHandler::respond_delayed(std::int32_t stream_id) {
  const auto it = delayed_.find(stream_id);
  if (it == delayed_.end()) return;
  const Delayed d = std::move(it->second);
  delayed_.erase(it);
  if (server_ == nullptr) return;
  const ServerCall call(calls_);
  try {
    respond(*server_, stream_id, d.request_id, d.request);
  } catch (const std::bad_alloc&) {
    // A handler that cannot build its response gives the stream up, as a server would.
    server_->reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
  }
}

// Throws std::bad_alloc when the response cannot be allocated (inside nghttp2's callback, core
// turns that into a failed session). A response the session refuses (nghttp2 out of memory)
// resets its stream, as a server that cannot answer does.
void WorkloadHandler::respond(ServerConnection& server, std::int32_t stream_id,
                              std::uint64_t request_id, const HeaderTable& request) {
  const ResponsePlan plan = w_.workload.response(request_id);
  Allocator& port = w_.counting.port(index_);
  bool submitted = false;
  if (plan.kind == ResponseKind::Shared) {
    // Adopting an immutable object is safe: releasing it is a no-op.
    submitted = server.submit_response(stream_id, ResponseRef(w_.shared_body));
  } else if (plan.kind == ResponseKind::Streaming) {
    ResponseRef head(ResponseObject::create(
        port, w_.workload.response_spec(request_id, plan, request), nullptr));
    submitted = server.submit_streaming_response(stream_id, std::move(head));
    if (submitted) {
      producers_[stream_id] = {request_id, plan, 0};
      schedule_chunk(stream_id);
    }
  } else {
    const Workload* workload = &w_.workload;
    auto fill = [workload, request_id, plan](std::span<std::uint8_t> out) {
      workload->fill(request_id, plan, 0, out);
    };
    submitted = server.submit_response(
        stream_id, ResponseRef(ResponseObject::create(
                       port, w_.workload.response_spec(request_id, plan, request), fill)));
  }
  if (!submitted) server.reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
}

void WorkloadHandler::schedule_chunk(std::int32_t stream_id) {
  w_.scheduler.after(
      w_.chooser.between(Decision::StreamInterval, w_.scenario.workload.stream_interval_ns),
      {EventKind::StreamChunk, index_, stream_id});
}

void WorkloadHandler::produce_chunk(std::int32_t stream_id) {
  const auto it = producers_.find(stream_id);
  if (it == producers_.end()) return;
  if (server_ == nullptr) {
    producers_.erase(it);
    return;
  }
  Producer& p = it->second;
  const std::uint64_t left = p.plan.body_size - p.offset;
  const std::uint64_t size =
      std::min(left, w_.chooser.between(Decision::StreamChunk, w_.scenario.workload.stream_chunk));
  std::vector<std::uint8_t> chunk(size);
  w_.workload.fill(p.request_id, p.plan, p.offset, chunk);
  const ServerCall call(calls_);
  // False: the stream is gone, or its chunk could not be allocated. The producer gives the
  // stream up either way (resetting a stream that is gone does nothing).
  if (size > 0 && !server_->append_body_chunk(stream_id, chunk)) {
    server_->reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
    producers_.erase(it);
    return;
  }
  p.offset += size;
  if (p.offset == p.plan.body_size) {
    if (!server_->end_body(stream_id)) server_->reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
    producers_.erase(it);
    return;
  }
  schedule_chunk(stream_id);
}

}  // namespace emitlab::sim
