// What one emit pass did. Every figure emitlab reports (CLI, properties, benchmarks) is read
// from these records; nothing else counts on its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/wire_limits.h"

namespace emitlab {

// Where the emitter's own heap allocations come from.
enum class AllocSite : std::uint8_t { GatherList, RefList, EmitBuffer, HeapStage, kCount };
inline constexpr std::size_t kAllocSites = static_cast<std::size_t>(AllocSite::kCount);
std::string_view to_string(AllocSite site);

// Where plaintext bytes are copied on their way to SSL_write.
enum class CopySite : std::uint8_t {
  ProviderCopy,   // body -> nghttp2 frame buffer (data source without NO_COPY)
  DrainBuffer,    // mem_send slice -> drain's 16649-byte buffer
  PlaintextRing,  // BIO_write into the plaintext ring
  EmitBuffer,     // frame bytes -> gather's emit buffer (and its growth)
  Stage,          // gather entries -> the 16 KiB stage
  HeapStage,      // gather entries -> a heap stage for passes over 16 KiB
  Park,           // unwritten tail parked into the plaintext ring after WANT_WRITE
  kCount
};
inline constexpr std::size_t kCopySites = static_cast<std::size_t>(CopySite::kCount);
std::string_view to_string(CopySite site);

enum class PassKind : std::uint8_t { Drain, Gather };
std::string_view to_string(PassKind kind);

using AllocCounts = std::array<std::uint32_t, kAllocSites>;  // by AllocSite
using CopyCounts = std::array<std::uint64_t, kCopySites>;    // by CopySite

// What each consumer of the list below does with a field.
enum PassFieldRole : unsigned {
  kPassIndex = 0,       // the pass's number: the trace writes it beside the record, as "pass"
  kPassState = 1 << 0,  // a flag or end-of-pass state: never summed
  kPassCount = 1 << 1,  // summed by += and subtracted by -=
  kPassShape = 1 << 2,  // what A1, A2 and A3 must not change (check/'s same-shape comparison)
};

// The fields of a pass record, declared once: X(type, name, roles). The struct, its sums, the
// trace's pass_end record (every field but the index, in this order) and check/'s comparison of
// two runs' passes are all made from it; adding a field is one line here.
#define EMITLAB_PASS_RECORD_FIELDS(X)                                                         \
  X(std::uint64_t, index, kPassIndex)                                                         \
  X(PassKind, kind, kPassState | kPassShape)                                                  \
  /* gather's entry gate found a write in flight */                                           \
  X(bool, skipped, kPassState | kPassShape)                                                   \
  /* A2 wrote the pass straight from its single entry */                                      \
  X(bool, fast_path, kPassState)                                                              \
  /* State at the end of the pass, for the switch and latch rules (P5, P6). Drain's cursor */ \
  /* holds bytes nghttp2 counts as sent; nghttp2 holds a NO_COPY frame gather refused; */     \
  /* hybrid's counter; open streams with the latch set. */                                    \
  X(bool, drain_slice_parked, kPassState | kPassShape)                                        \
  X(bool, gather_frame_deferred, kPassState | kPassShape)                                     \
  X(std::uint32_t, latch_counter, kPassState)                                                 \
  X(std::uint32_t, latched_open, kPassState)                                                  \
  /* HTTP/2 plaintext produced by this pass */                                                \
  X(std::uint64_t, bytes, kPassCount | kPassShape)                                            \
  /* frames nghttp2 reported sent */                                                          \
  X(std::uint32_t, frames, kPassCount | kPassShape)                                           \
  /* entries in the gather list at flush */                                                   \
  X(std::uint32_t, gather_entries, kPassCount | kPassShape)                                   \
  /* SSL_write_ex calls */                                                                    \
  X(std::uint32_t, ssl_writes, kPassCount | kPassShape)                                       \
  /* records OpenSSL produced */                                                              \
  X(std::uint32_t, tls_records, kPassCount | kPassShape)                                      \
  /* Records under kMaxRecordPlaintext bytes written while more plaintext was queued (in */   \
  /* the same call, the plaintext ring or the session): records a fuller packing would */     \
  /* have avoided. */                                                                         \
  X(std::uint32_t, undersized_records, kPassCount)                                            \
  X(std::uint32_t, write_submissions, kPassCount | kPassShape)                                \
  X(std::uint32_t, parks, kPassCount | kPassShape)                                            \
  X(std::uint64_t, parked_bytes, kPassCount | kPassShape)                                     \
  X(AllocCounts, allocs, kPassCount)                                                          \
  X(AllocCounts, frees, kPassCount)                                                           \
  X(std::uint64_t, alloc_bytes, kPassCount)                                                   \
  X(std::uint32_t, nghttp2_allocs, kPassCount)                                                \
  X(std::uint32_t, nghttp2_frees, kPassCount)                                                 \
  /* emitter's own reference increments and decrements */                                     \
  X(std::uint32_t, ref_retains, kPassCount)                                                   \
  X(std::uint32_t, ref_releases, kPassCount)                                                  \
  /* stream-owned references dropped at stream close */                                       \
  X(std::uint32_t, owner_releases, kPassCount)                                                \
  /* response objects torn down inside the pass */                                            \
  X(std::uint32_t, objects_destroyed, kPassCount)                                             \
  /* streams that closed inside the pass */                                                   \
  X(std::uint32_t, streams_closed, kPassCount | kPassShape)                                   \
  /* streams whose first DATA slice went out in the pass */                                   \
  X(std::uint32_t, streams_started, kPassCount)                                               \
  X(CopyCounts, copied, kPassCount)

struct PassRecord {
#define EMITLAB_PASS_RECORD_MEMBER(type, name, roles) type name{};
  EMITLAB_PASS_RECORD_FIELDS(EMITLAB_PASS_RECORD_MEMBER)
#undef EMITLAB_PASS_RECORD_MEMBER

  std::uint32_t emitter_allocs() const;
  std::uint32_t emitter_frees() const;
  std::uint32_t ref_ops() const {
    return ref_retains + ref_releases;
  }
  std::uint64_t copied_total() const;
  PassRecord& operator+=(const PassRecord& other);  // sums every count
  PassRecord& operator-=(const PassRecord& other);  // subtracts every count (other <= this)
  bool operator==(const PassRecord&) const = default;
};

}  // namespace emitlab
