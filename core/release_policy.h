// Who keeps a response body alive while gather entries point into it, and when that
// reference goes. The stream's own reference drops inside session_send (on_stream_close),
// before the pass flushes, so an emitter that points into bodies must hold its own.
//   PerSliceRelease  (gather as shipped): one reference per DATA slice, all released after
//                    the flush.
//   AtCloseRelease   (A3): one reference per stream, taken at its first DATA slice; when the
//                    stream closes inside a pass the release is queued (intrusively, so no
//                    allocation) until after the flush.
#pragma once

#include <memory>
#include <string>

#include "core/h2_session.h"
#include "core/mutant.h"
#include "core/pass_record.h"
#include "core/scratch_lifetime.h"

namespace emitlab {

class ReleasePolicy {
 public:
  virtual ~ReleasePolicy() = default;
  // A DATA slice of `stream` is now in the gather list. May throw std::bad_alloc.
  virtual void on_slice(ServerStream& stream, PassRecord& record) = 0;
  // `in_pass`: inside session_send, before the flush; `record` is where counts go.
  virtual void on_stream_close(ServerStream& stream, bool in_pass, PassRecord* record) = 0;
  // The pass has flushed or failed: no gather entry points into a body any more.
  virtual void after_flush(PassRecord* record) = 0;
  virtual void end_pass(const ScratchLifetime& lifetime) = 0;
  // The connection is closing: drop everything still held and return the scratch.
  virtual void release_all() = 0;
  // Between passes nothing is held for a flush: the first broken invariant, or empty.
  virtual std::string validate() const { return {}; }
};

// `mutant` arms the policies' fault points (core/mutant.h), None in production.
std::unique_ptr<ReleasePolicy> make_release_policy(bool at_stream_close, EmitterHeap& heap,
                                                   Mutant mutant = Mutant::None);

// Drops one emitter reference and counts it (and a teardown) on `record`.
void release_counted(ResponseObject* object, PassRecord* record);

}  // namespace emitlab
