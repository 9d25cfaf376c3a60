// The counting allocator of a simulated world. One per world; every
// connection gets its own Allocator port from it, and OpenSSL's allocations are charged to it
// through an OpenSslAttribution scope (sim/openssl_mem.h).
//
// What it does for a run:
//  - attributes every allocation to (connection, owner, emitter site) and to (connection, pass),
//    counting allocations, frees, bytes and live/peak live bytes;
//  - puts a header in front of every block (size, owner, connection, pass, canary), so a free
//    needs no size and a double free or a foreign pointer is reported as a violation instead
//    of corrupting the heap;
//  - poisons freed blocks with kPoisonByte and keeps them in a bounded FIFO quarantine before
//    reusing or really freeing them: a stale pointer (a gather entry into a freed body) then reads
//    poison, which the peer's byte-exact verification reports as wrong bytes;
//  - fails the n-th allocation attempt on purpose (fail_at) and records where it hit.
//
// Its three jobs live in three parts: the guarded heap (sim/guarded_heap.h: headers, membership,
// poisoning, quarantine, leaks), the ledger (sim/alloc_ledger.h: the counts) and the fault plan
// (sim/fault_plan.h: attempt numbers, fail_at). This class joins them: the ports, the lock, the
// checks of a free against its caller, and the violations.
//
// Lifetime: the allocator must outlive every port user (ServerConnection, responses). OpenSSL
// blocks still live when it is destroyed stay valid: their later free is routed by the header.
// Thread safety: every member function may be called from any thread (OpenSSL may free from
// another thread); the counts are guarded by one mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/allocator.h"
#include "core/pass_record.h"
#include "sim/alloc_ledger.h"
#include "sim/fault_plan.h"
#include "sim/guarded_heap.h"

namespace emitlab::sim {

enum class ViolationKind : std::uint8_t {
  DoubleFree,          // the block was already freed and is still quarantined
  UnknownPointer,      // never handed out by this allocator, or freed and already released
  HeaderCorrupt,       // the block is ours but its header canary is wrong (an underflow)
  OwnerMismatch,       // freed with another owner or emitter site than it was allocated with
  ConnectionMismatch,  // freed through another connection's port
};
std::string_view to_string(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::UnknownPointer;
  std::uint32_t connection = 0;            // of the port (or OpenSSL scope) that freed
  AllocOwner owner = AllocOwner::Emitter;  // as the freeing call named it
  std::uint64_t pass = 0;
  std::uint64_t sequence = 0;  // the block's allocation number; 0 when unknown
};

std::string to_string(const Violation& violation);

struct CountingConfig {
  // Freed blocks wait here (poisoned) before reuse or the real free; 0 frees at once. The newest
  // block always stays, even when it alone is larger.
  std::size_t quarantine_bytes = std::size_t{8} << 20;
  // Keep the counts of every pass (for_pass, passes()). Off, a connection keeps those outside
  // passes (pass 0) and of its latest pass only, so a long run's ledger does not grow with its
  // passes (about 220 bytes each); earlier passes read as never seen, and a free charged to one
  // of them counts in the connection's and owner's totals only.
  bool keep_pass_ledgers = true;
};

class CountingAllocator {
 public:
  static constexpr std::uint8_t kPoisonByte = GuardedHeap::kPoisonByte;
  static constexpr std::size_t kMaxViolationsKept = 64;  // beyond it only the count grows

  explicit CountingAllocator(CountingConfig config = {});
  // Drains the quarantine; live blocks are left alone (leaks() named them).
  ~CountingAllocator();
  CountingAllocator(const CountingAllocator&) = delete;
  CountingAllocator& operator=(const CountingAllocator&) = delete;

  // The port of `connection`: stable for the allocator's lifetime, created on first use.
  emitlab::Allocator& port(std::uint32_t connection);

  // Failure injection: the n-th counted allocation attempt (1-based, over every owner, OpenSSL
  // included) returns nullptr, once. 0 disarms; an n already passed never fires.
  void fail_at(std::uint64_t n);
  std::uint64_t allocations_so_far() const;  // attempts, including a failed one
  std::optional<InjectedFailure> injected_failure() const;
  // Keeps every attempt from now on, in order (a sweep compares its runs with a clean one).
  void record_attempts(bool on);
  std::vector<AllocationAttempt> attempts() const;

  AllocCounts total() const;
  AllocCounts for_connection(std::uint32_t connection) const;
  AllocCounts for_owner(std::uint32_t connection, AllocOwner owner) const;
  AllocCounts for_site(std::uint32_t connection, AllocSite emitter_site) const;
  std::vector<SiteCounts> sites() const;  // ordered by (connection, owner, site)
  PassCounts for_pass(std::uint32_t connection, std::uint64_t pass) const;
  AllocCounts for_pass(std::uint32_t connection, std::uint64_t pass, AllocOwner owner) const;
  std::vector<PassCounts> passes(std::uint32_t connection) const;  // ordered by pass

  std::uint64_t violation_count() const;
  std::vector<Violation> violations() const;  // the first kMaxViolationsKept, in order
  std::vector<Leak> leaks() const;            // every live block, in allocation order
  bool all_freed(std::uint32_t connection) const;
  // False when the OpenSSL hooks are not installed (or the registry is full): OpenSSL's
  // allocations are then NOT counted, and OpenSsl rows read zero for that reason only.
  bool openssl_counted() const;
  std::uint64_t quarantined_bytes() const;
  void drain_quarantine();  // really frees every quarantined block now

 private:
  class Port;
  friend class Port;
  friend struct OpenSslRouting;  // sim/openssl_mem.cpp

  using Origin = BlockOrigin;
  // The caller of a free or realloc: whose port (or OpenSSL scope) and what it claimed.
  struct Caller {
    std::uint32_t connection;
    AllocOwner owner;
    std::uint8_t site;
    std::uint64_t pass;
    bool checked;  // port calls are checked against the header; OpenSSL's are routed by it
  };

  void* acquire(std::size_t bytes, const Origin& origin) noexcept;
  void release(void* user, const Caller& caller) noexcept;
  void* resize(void* user, std::size_t bytes, const Caller& caller) noexcept;
  void* resize_checked(void* user, std::size_t bytes, const Caller& caller);

  // Hands the heap's remaining blocks to the orphans (sim/slab_heap.h); run by the registry
  // while it removes this allocator, so an OpenSSL free finds the block either way.
  static void abandon_heap(CountingAllocator& allocator);
  // All below run with mu_ held.
  void* carve(std::size_t bytes, const Origin& origin, bool reallocation);
  bool admit(void* user, const Caller& caller);
  void check_tag(const detail::BlockHeader& h, const Caller& caller);
  void retire(void* user, const Caller& caller);
  void report(ViolationKind kind, const Caller& caller, std::uint64_t sequence);

  CountingConfig config_;
  std::uint32_t id_;
  bool registered_;
  mutable std::mutex mu_;
  std::map<std::uint32_t, std::unique_ptr<Port>> ports_;
  FaultPlan faults_;
  GuardedHeap heap_;
  AllocLedger ledger_;
  std::uint64_t violation_count_ = 0;
  std::vector<Violation> violations_;
};

}  // namespace emitlab::sim
