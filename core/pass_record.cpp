#include "core/pass_record.h"

#include <array>
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

// Applies op to every count of `a` with the same count of `b`, element by element for the
// per-site arrays: the counts are the fields the list marks kPassCount.
template <class T, class Op>
void count_op(T& a, const T& b, Op op) {
  op(a, b);
}
template <class T, std::size_t N, class Op>
void count_op(std::array<T, N>& a, const std::array<T, N>& b, Op op) {
  for (std::size_t i = 0; i < N; ++i) op(a[i], b[i]);
}

template <class Op>
void each_count(PassRecord& a, const PassRecord& b, Op op) {
#define EMITLAB_PASS_COUNT_OP(type, name, roles) \
  if constexpr (((roles)&kPassCount) != 0) count_op(a.name, b.name, op);
  EMITLAB_PASS_RECORD_FIELDS(EMITLAB_PASS_COUNT_OP)
#undef EMITLAB_PASS_COUNT_OP
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
