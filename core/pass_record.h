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

struct PassRecord {
  std::uint64_t index = 0;
  PassKind kind = PassKind::Drain;
  bool skipped = false;    // gather's entry gate found a write in flight
  bool fast_path = false;  // A2 wrote the pass straight from its single entry
  // State at the end of the pass, for the switch and latch rules (P5, P6).
  bool drain_slice_parked = false;     // drain's cursor holds bytes nghttp2 counts as sent
  bool gather_frame_deferred = false;  // nghttp2 holds a NO_COPY frame gather refused
  std::uint32_t latch_counter = 0;     // hybrid's counter
  std::uint32_t latched_open = 0;      // open streams with the latch set

  std::uint64_t bytes = 0;           // HTTP/2 plaintext produced by this pass
  std::uint32_t frames = 0;          // frames nghttp2 reported sent
  std::uint32_t gather_entries = 0;  // entries in the gather list at flush
  std::uint32_t ssl_writes = 0;      // SSL_write_ex calls
  std::uint32_t tls_records = 0;     // records OpenSSL produced
  // Records under kMaxRecordPlaintext bytes written while more plaintext was queued (in the
  // same call, the plaintext ring or the session): records a fuller packing would have avoided.
  std::uint32_t undersized_records = 0;
  std::uint32_t write_submissions = 0;
  std::uint32_t parks = 0;
  std::uint64_t parked_bytes = 0;

  std::array<std::uint32_t, kAllocSites> allocs{};
  std::array<std::uint32_t, kAllocSites> frees{};
  std::uint64_t alloc_bytes = 0;
  std::uint32_t nghttp2_allocs = 0;
  std::uint32_t nghttp2_frees = 0;

  std::uint32_t ref_retains = 0;        // emitter's own reference increments
  std::uint32_t ref_releases = 0;       // emitter's own reference decrements
  std::uint32_t owner_releases = 0;     // stream-owned references dropped at stream close
  std::uint32_t objects_destroyed = 0;  // response objects torn down inside the pass
  std::uint32_t streams_closed = 0;     // streams that closed inside the pass
  std::uint32_t streams_started = 0;    // streams whose first DATA slice went out in the pass
  std::array<std::uint64_t, kCopySites> copied{};

  std::uint32_t emitter_allocs() const;
  std::uint32_t emitter_frees() const;
  std::uint32_t ref_ops() const { return ref_retains + ref_releases; }
  std::uint64_t copied_total() const;
  PassRecord& operator+=(const PassRecord& other);  // sums every count
  PassRecord& operator-=(const PassRecord& other);  // subtracts every count (other <= this)
  bool operator==(const PassRecord&) const = default;
};

}  // namespace emitlab
