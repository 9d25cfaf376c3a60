#include "core/pass_record.h"

#include <numeric>

namespace emitlab {

std::string_view to_string(AllocSite site) {
  switch (site) {
    case AllocSite::GatherList: return "gather_list";
    case AllocSite::RefList: return "ref_list";
    case AllocSite::EmitBuffer: return "emit_buffer";
    case AllocSite::HeapStage: return "heap_stage";
    case AllocSite::kCount: break;
  }
  return "?";
}

std::string_view to_string(CopySite site) {
  switch (site) {
    case CopySite::ProviderCopy: return "provider_copy";
    case CopySite::DrainBuffer: return "drain_buffer";
    case CopySite::PlaintextRing: return "plaintext_ring";
    case CopySite::EmitBuffer: return "emit_buffer";
    case CopySite::Stage: return "stage";
    case CopySite::HeapStage: return "heap_stage";
    case CopySite::Park: return "park";
    case CopySite::kCount: break;
  }
  return "?";
}

std::string_view to_string(PassKind kind) { return kind == PassKind::Drain ? "drain" : "gather"; }

std::uint32_t PassRecord::emitter_allocs() const {
  return std::accumulate(allocs.begin(), allocs.end(), 0U);
}

std::uint32_t PassRecord::emitter_frees() const {
  return std::accumulate(frees.begin(), frees.end(), 0U);
}

std::uint64_t PassRecord::copied_total() const {
  return std::accumulate(copied.begin(), copied.end(), std::uint64_t{0});
}

PassRecord& PassRecord::operator+=(const PassRecord& o) {
  bytes += o.bytes;
  frames += o.frames;
  gather_entries += o.gather_entries;
  ssl_writes += o.ssl_writes;
  tls_records += o.tls_records;
  write_submissions += o.write_submissions;
  parks += o.parks;
  parked_bytes += o.parked_bytes;
  for (std::size_t i = 0; i < kAllocSites; ++i) {
    allocs[i] += o.allocs[i];
    frees[i] += o.frees[i];
  }
  alloc_bytes += o.alloc_bytes;
  nghttp2_allocs += o.nghttp2_allocs;
  nghttp2_frees += o.nghttp2_frees;
  ref_retains += o.ref_retains;
  ref_releases += o.ref_releases;
  owner_releases += o.owner_releases;
  objects_destroyed += o.objects_destroyed;
  streams_closed += o.streams_closed;
  streams_started += o.streams_started;
  for (std::size_t i = 0; i < kCopySites; ++i) copied[i] += o.copied[i];
  return *this;
}

}  // namespace emitlab
