// The counting allocator's ledger (sim/counting_allocator.h): the counts of allocations, frees,
// bytes and live/peak live bytes by (connection, owner, emitter site) and by (connection, pass).
// It only adds up what the allocator tells it; it never sees a block. Not thread-safe: the
// counting allocator calls it under its lock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/allocator.h"

namespace emitlab::sim {

struct AllocCounts {
  std::uint64_t allocations = 0;  // successful allocations (a realloc counts one, and one free)
  std::uint64_t frees = 0;
  std::uint64_t bytes_allocated = 0;
  std::uint64_t bytes_freed = 0;
  std::uint64_t live_bytes = 0;
  std::uint64_t peak_live_bytes = 0;
  std::uint64_t live_blocks() const { return allocations - frees; }
  bool operator==(const AllocCounts&) const = default;
};

// One (connection, owner, site) row; `site` is set for the emitter only.
struct SiteCounts {
  std::uint32_t connection = 0;
  AllocOwner owner = AllocOwner::Emitter;
  std::optional<AllocSite> site;
  AllocCounts counts;
};

// One (connection, pass) row. `counts` follows the blocks ALLOCATED in the pass (their frees
// count here whenever they happen, so live_bytes is what the pass left behind);
// `frees_during` counts the frees made while the pass ran, whatever pass allocated them.
struct PassCounts {
  std::uint32_t connection = 0;
  std::uint64_t pass = 0;  // 0: outside passes
  AllocCounts counts;
  std::uint64_t frees_during = 0;
};

namespace detail {
inline constexpr std::uint8_t kNoSite = 0xFF;
}  // namespace detail

// Whose block: the connection, owner, emitter site (or detail::kNoSite) and pass it was
// allocated in.
struct BlockOrigin {
  std::uint32_t connection;
  AllocOwner owner;
  std::uint8_t site;
  std::uint64_t pass;
};

class AllocLedger {
 public:
  // Without keep_pass_ledgers a connection keeps the counts outside passes (pass 0) and of its
  // latest pass only (CountingConfig says why).
  explicit AllocLedger(bool keep_pass_ledgers) : keep_pass_ledgers_(keep_pass_ledgers) {}

  void count_alloc(const BlockOrigin& block, std::uint64_t bytes);
  // A free of `block`, made by `connection` during its pass `pass`.
  void count_free(const BlockOrigin& block, std::uint64_t bytes, std::uint32_t connection,
                  std::uint64_t pass);

  const AllocCounts& total() const { return total_; }
  AllocCounts for_connection(std::uint32_t connection) const;
  AllocCounts for_owner(std::uint32_t connection, AllocOwner owner) const;
  AllocCounts for_site(std::uint32_t connection, AllocSite emitter_site) const;
  std::vector<SiteCounts> sites() const;  // ordered by (connection, owner, site)
  PassCounts for_pass(std::uint32_t connection, std::uint64_t pass) const;
  AllocCounts for_pass(std::uint32_t connection, std::uint64_t pass, AllocOwner owner) const;
  std::vector<PassCounts> passes(std::uint32_t connection) const;  // ordered by pass
  bool all_freed(std::uint32_t connection) const;

 private:
  // One ledger per connection (a tree, since the shared port's connection is not a small
  // index), and inside it dense tables, since passes are numbered from 1 (0 is outside passes)
  // on each connection, so an index replaces four tree lookups per allocation.
  static constexpr std::size_t kSiteRows = kAllocOwners * (kAllocSites + 1);
  struct Row {
    bool seen = false;  // only rows something touched are listed, as a map would hold them
    AllocCounts counts;
  };
  struct PassLedger {
    bool seen = false;
    AllocCounts counts;
    std::uint64_t frees_during = 0;
    std::array<AllocCounts, kAllocOwners> owners{};
  };
  struct ConnectionLedger {
    AllocCounts counts;
    std::array<AllocCounts, kAllocOwners> owners{};
    std::array<Row, kSiteRows> sites{};  // (owner, site), the site-less row of an owner last
    std::vector<PassLedger> passes;      // indexed by pass; else [pass 0, latest_pass]
    std::uint64_t latest_pass = 0;       // without keep_pass_ledgers
  };
  static std::size_t site_row(AllocOwner owner, std::uint8_t site);
  template <typename Apply>
  void charge(const BlockOrigin& block, std::uint64_t bytes, Apply apply);
  ConnectionLedger& ledger(std::uint32_t connection);
  PassLedger& pass_ledger(ConnectionLedger& l, std::uint64_t pass);
  const ConnectionLedger* find_ledger(std::uint32_t connection) const;
  const PassLedger* find_pass(std::uint32_t connection, std::uint64_t pass) const;

  bool keep_pass_ledgers_;
  AllocCounts total_;
  PassLedger forgotten_pass_;  // takes what is charged to a pass no longer kept
  std::map<std::uint32_t, ConnectionLedger> ledgers_;
  // The ledger of the latest connection counted: a run's allocations come in long stretches of
  // one connection, and a map node never moves, so this spares most tree lookups.
  std::uint32_t last_connection_ = 0;
  ConnectionLedger* last_ = nullptr;
};

}  // namespace emitlab::sim
