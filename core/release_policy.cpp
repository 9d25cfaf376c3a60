#include "core/release_policy.h"

#include <utility>

namespace emitlab {
namespace {

constexpr std::size_t kRefListInitial = 32;

// Takes a reference if the object is refcounted; immutable bodies need none.
ResponseObject* retain_counted(ResponseObject* object, PassRecord& record, Mutant mutant) {
  if (!object->retain(mutant == Mutant::RefcountOnImmutable)) return nullptr;  // bug zoo
  ++record.ref_retains;
  return object;
}

class PerSliceRelease final : public ReleasePolicy {
 public:
  PerSliceRelease(EmitterHeap& heap, Mutant mutant)
      : refs_(heap, AllocSite::RefList, kRefListInitial), mutant_(mutant) {}
  ~PerSliceRelease() override { release_all(); }

  void on_slice(ServerStream& stream, PassRecord& record) override {
    refs_.push_back(nullptr);  // may throw: reserve the slot before taking the reference
    refs_.back() = retain_counted(stream.response.get(), record, mutant_);
  }
  void on_stream_close(ServerStream&, bool, PassRecord*) override {}
  void after_flush(PassRecord* record) override {
    for (ResponseObject* obj : refs_.items()) release_counted(obj, record);
    refs_.clear();
  }
  void end_pass(const ScratchLifetime& lifetime) override {
    lifetime.end_pass(refs_, ScratchLifetime::kRetainRefs);
  }
  void release_all() override {
    after_flush(nullptr);
    refs_.release();
  }
  std::string validate() const override {
    if (!refs_.empty()) return "per-slice references still held after the flush";
    if (refs_.capacity() > ScratchLifetime::kRetainRefs) return "reference list above A1's bound";
    return {};
  }

 private:
  ScratchVector<ResponseObject*> refs_;
  Mutant mutant_;
};

class AtCloseRelease final : public ReleasePolicy {
 public:
  explicit AtCloseRelease(Mutant mutant) : mutant_(mutant) {}
  ~AtCloseRelease() override { release_all(); }

  void on_slice(ServerStream& stream, PassRecord& record) override {
    if (stream.emitter_ref_taken) return;
    stream.emitter_ref = retain_counted(stream.response.get(), record, mutant_);
    stream.emitter_ref_taken = true;
    ++record.streams_started;
  }
  void on_stream_close(ServerStream& stream, bool in_pass, PassRecord* record) override {
    ResponseObject* held = std::exchange(stream.emitter_ref, nullptr);
    if (held == nullptr) return;
    if (in_pass && mutant_ != Mutant::ReleaseAtCloseNoDefer) {  // bug zoo: no deferral
      held->defer_release(queue_);  // a gather entry may still point into the body
    } else {
      release_counted(held, record);  // outside a pass no gather entry exists
    }
  }
  void after_flush(PassRecord* record) override {
    std::uint32_t releases = 0;
    std::uint32_t destroyed = 0;
    ResponseObject::release_deferred(queue_, &releases, &destroyed);
    if (record != nullptr) {
      record->ref_releases += releases;
      record->objects_destroyed += destroyed;
    }
  }
  void end_pass(const ScratchLifetime&) override {}
  void release_all() override { after_flush(nullptr); }
  std::string validate() const override {
    return queue_ == nullptr ? std::string() : "A3 releases still queued after the flush";
  }

 private:
  ResponseObject* queue_ = nullptr;  // intrusive: closing a stream never allocates
  Mutant mutant_;
};

}  // namespace

void release_counted(ResponseObject* object, PassRecord* record) {
  bool destroyed = false;
  if (!ResponseObject::release(object, &destroyed) || record == nullptr) return;
  ++record->ref_releases;
  if (destroyed) ++record->objects_destroyed;
}

std::unique_ptr<ReleasePolicy> make_release_policy(bool at_stream_close, EmitterHeap& heap,
                                                   Mutant mutant) {
  if (at_stream_close) return std::make_unique<AtCloseRelease>(mutant);
  return std::make_unique<PerSliceRelease>(heap, mutant);
}

}  // namespace emitlab
