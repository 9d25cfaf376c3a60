#include "core/pass_record.h"

#include <numeric>

namespace emitlab {

std::string_view to_string(AllocSite site) {
  switch (site) {
    case AllocSite::GatherList:
      return "gather_list";
    case AllocSite::RefList:
      return "ref_list";
    case AllocSite::EmitBuffer:
      return "emit_buffer";
    case AllocSite::HeapStage:
      return "heap_stage";
    case AllocSite::kCount:
      break;
  }
  return "?";
}

std::string_view to_string(CopySite site) {
  switch (site) {
    case CopySite::ProviderCopy:
      return "provider_copy";
    case CopySite::DrainBuffer:
      return "drain_buffer";
    case CopySite::PlaintextRing:
      return "plaintext_ring";
    case CopySite::EmitBuffer:
      return "emit_buffer";
    case CopySite::Stage:
      return "stage";
    case CopySite::HeapStage:
      return "heap_stage";
    case CopySite::Park:
      return "park";
    case CopySite::kCount:
      break;
  }
  return "?";
}

std::string_view to_string(PassKind kind) {
  return kind == PassKind::Drain ? "drain" : "gather";
}

std::uint32_t PassRecord::emitter_allocs() const {
  return std::accumulate(allocs.begin(), allocs.end(), 0U);
}

std::uint32_t PassRecord::emitter_frees() const {
  return std::accumulate(frees.begin(), frees.end(), 0U);
}

std::uint64_t PassRecord::copied_total() const {
  return std::accumulate(copied.begin(), copied.end(), std::uint64_t{0});
}

namespace {

// Applies op to every count of `a` with the same count of `b`: the one list of counts that
// `+=` and `-=` cover (the index, kind, flags and end-of-pass state are not counts).
template <class Op>
void each_count(PassRecord& a, const PassRecord& b, Op op) {
  op(a.bytes, b.bytes);
  op(a.frames, b.frames);
  op(a.gather_entries, b.gather_entries);
  op(a.ssl_writes, b.ssl_writes);
  op(a.tls_records, b.tls_records);
  op(a.undersized_records, b.undersized_records);
  op(a.write_submissions, b.write_submissions);
  op(a.parks, b.parks);
  op(a.parked_bytes, b.parked_bytes);
  for (std::size_t i = 0; i < kAllocSites; ++i) {
    op(a.allocs[i], b.allocs[i]);
    op(a.frees[i], b.frees[i]);
  }
  op(a.alloc_bytes, b.alloc_bytes);
  op(a.nghttp2_allocs, b.nghttp2_allocs);
  op(a.nghttp2_frees, b.nghttp2_frees);
  op(a.ref_retains, b.ref_retains);
  op(a.ref_releases, b.ref_releases);
  op(a.owner_releases, b.owner_releases);
  op(a.objects_destroyed, b.objects_destroyed);
  op(a.streams_closed, b.streams_closed);
  op(a.streams_started, b.streams_started);
  for (std::size_t i = 0; i < kCopySites; ++i) op(a.copied[i], b.copied[i]);
}

}  // namespace

PassRecord& PassRecord::operator+=(const PassRecord& o) {
  each_count(*this, o, [](auto& x, auto y) { x += y; });
  return *this;
}

PassRecord& PassRecord::operator-=(const PassRecord& o) {
  each_count(*this, o, [](auto& x, auto y) { x -= y; });
  return *this;
}

}  // namespace emitlab
