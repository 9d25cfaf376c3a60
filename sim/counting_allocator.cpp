#include "sim/counting_allocator.h"

#include <algorithm>
#include <cstring>

#include "sim/counting_block.h"
#include "sim/openssl_mem.h"

namespace emitlab::sim {

using detail::BlockHeader;
using detail::kNoSite;

namespace {

std::optional<AllocSite> site_of(std::uint8_t site) {
  if (site == kNoSite) return std::nullopt;
  return static_cast<AllocSite>(site);
}

std::uint8_t site_for(AllocOwner owner, AllocSite site) {
  // Only the emitter's site means something; other owners share one row per connection.
  return owner == AllocOwner::Emitter ? static_cast<std::uint8_t>(site) : kNoSite;
}

}  // namespace

std::string_view to_string(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::DoubleFree:
      return "double_free";
    case ViolationKind::UnknownPointer:
      return "unknown_pointer";
    case ViolationKind::HeaderCorrupt:
      return "header_corrupt";
    case ViolationKind::OwnerMismatch:
      return "owner_mismatch";
    case ViolationKind::ConnectionMismatch:
      return "connection_mismatch";
  }
  return "?";
}

std::string to_string(const Violation& v) {
  return std::string(to_string(v.kind)) + ": connection " + std::to_string(v.connection) +
         ", owner " + std::string(to_string(v.owner)) + ", pass " + std::to_string(v.pass) +
         ", block #" + std::to_string(v.sequence);
}

// ---------------------------------------------------------------------------------------------
// The per-connection port: the connection is fixed, the rest comes from the tag.

class CountingAllocator::Port final : public emitlab::Allocator {
 public:
  Port(CountingAllocator& owner, std::uint32_t connection)
      : owner_(&owner), connection_(connection) {}

  void* allocate(std::size_t bytes, const AllocTag& tag) override {
    return owner_->acquire(bytes,
                           {connection_, tag.owner, site_for(tag.owner, tag.site), tag.pass});
  }
  void deallocate(void* p, const AllocTag& tag) override { owner_->release(p, caller(tag)); }
  void* reallocate(void* p, std::size_t bytes, const AllocTag& tag) override {
    return owner_->resize(p, bytes, caller(tag));
  }

 private:
  Caller caller(const AllocTag& tag) const {
    return {connection_, tag.owner, site_for(tag.owner, tag.site), tag.pass, true};
  }

  CountingAllocator* owner_;
  std::uint32_t connection_;
};

// ---------------------------------------------------------------------------------------------

CountingAllocator::CountingAllocator(CountingConfig config)
    : config_(config),
      id_(detail::next_allocator_id()),
      heap_(id_, config.quarantine_bytes),
      ledger_(config.keep_pass_ledgers) {
  registered_ = detail::register_allocator(id_, this);
}

CountingAllocator::~CountingAllocator() {
  // Unregister first: an OpenSSL block freed from now on is routed around this object, to the
  // orphans that abandon_heap handed its blocks to.
  if (registered_) {
    detail::unregister_allocator(id_, &CountingAllocator::abandon_heap, *this);
  } else {
    abandon_heap(*this);
  }
}

void CountingAllocator::abandon_heap(CountingAllocator& allocator) {
  std::lock_guard lock(allocator.mu_);
  allocator.heap_.abandon();
}

emitlab::Allocator& CountingAllocator::port(std::uint32_t connection) {
  std::lock_guard lock(mu_);
  auto& slot = ports_[connection];
  if (!slot) slot = std::make_unique<Port>(*this, connection);
  return *slot;
}

void CountingAllocator::fail_at(std::uint64_t n) {
  std::lock_guard lock(mu_);
  faults_.fail_at(n);
}

std::uint64_t CountingAllocator::allocations_so_far() const {
  std::lock_guard lock(mu_);
  return faults_.attempts_so_far();
}

std::optional<InjectedFailure> CountingAllocator::injected_failure() const {
  std::lock_guard lock(mu_);
  return faults_.injected();
}

void CountingAllocator::record_attempts(bool on) {
  std::lock_guard lock(mu_);
  faults_.record(on);
}

std::vector<AllocationAttempt> CountingAllocator::attempts() const {
  std::lock_guard lock(mu_);
  return faults_.log();
}

// ---------------------------------------------------------------------------------------------
// Allocation, free and resize.

// The three entry points are noexcept: they are called from C (nghttp2, OpenSSL), and the
// bookkeeping containers can throw std::bad_alloc only on a real out-of-memory, which then
// reads as a failed allocation (or, for a free, leaves the block counted live).
void* CountingAllocator::acquire(std::size_t bytes, const Origin& origin) noexcept {
  try {
    std::lock_guard lock(mu_);
    return carve(bytes, origin, false);
  } catch (const std::exception&) {
    return nullptr;
  }
}

void CountingAllocator::release(void* user, const Caller& caller) noexcept {
  if (user == nullptr) return;
  try {
    std::lock_guard lock(mu_);
    if (admit(user, caller)) retire(user, caller);
  } catch (const std::exception&) {
  }
}

void* CountingAllocator::resize(void* user, std::size_t bytes, const Caller& caller) noexcept {
  try {
    return resize_checked(user, bytes, caller);
  } catch (const std::exception&) {
    return nullptr;
  }
}

void* CountingAllocator::resize_checked(void* user, std::size_t bytes, const Caller& caller) {
  if (user == nullptr) {
    return acquire(bytes, {caller.connection, caller.owner, caller.site, caller.pass});
  }
  if (bytes == 0) {  // realloc(p, 0) frees, as glibc and CRYPTO_realloc do
    release(user, caller);
    return nullptr;
  }
  std::lock_guard lock(mu_);
  if (!admit(user, caller)) return nullptr;
  const BlockHeader& old = GuardedHeap::header(user);
  // The block keeps its connection and owner; the new allocation belongs to the caller's pass.
  const Origin origin{old.connection, static_cast<AllocOwner>(old.owner), old.site, caller.pass};
  void* fresh = carve(bytes, origin, true);
  if (fresh == nullptr) return nullptr;  // the old block stays valid
  // Never in place: a pointer kept into the old block must read poison, not the new data.
  std::memcpy(fresh, user, std::min<std::uint64_t>(old.size, bytes));
  retire(user, caller);
  return fresh;
}

// Numbers the attempt (it may be the one fault plan fails), then takes a block from the heap and
// counts it.
void* CountingAllocator::carve(std::size_t bytes, const Origin& origin, bool reallocation) {
  if (!faults_.take({0, origin.connection, origin.owner, site_of(origin.site), origin.pass, bytes,
                     reallocation})) {
    return nullptr;
  }
  void* user = heap_.carve(bytes, faults_.attempts_so_far(), origin.connection, origin.owner,
                           origin.site, origin.pass);
  if (user == nullptr) return nullptr;
  try {
    ledger_.count_alloc(origin, bytes);
  } catch (...) {
    heap_.discard(user);
    throw;
  }
  return user;
}

// Decides whether `user` may be freed; reports why not.
bool CountingAllocator::admit(void* user, const Caller& caller) {
  switch (heap_.admit(user)) {
    case GuardedHeap::Admission::Live:
      if (caller.checked) check_tag(GuardedHeap::header(user), caller);
      return true;
    case GuardedHeap::Admission::Corrupt:
      // The block stays counted live, and the violation says why.
      report(ViolationKind::HeaderCorrupt, caller, 0);
      return false;
    case GuardedHeap::Admission::Quarantined:
      report(ViolationKind::DoubleFree, caller, GuardedHeap::header(user).sequence);
      return false;
    case GuardedHeap::Admission::Unknown:
      break;
  }
  report(ViolationKind::UnknownPointer, caller, 0);
  return false;
}

void CountingAllocator::check_tag(const BlockHeader& h, const Caller& caller) {
  if (h.owner != static_cast<std::uint8_t>(caller.owner) || h.site != caller.site) {
    report(ViolationKind::OwnerMismatch, caller, h.sequence);
  }
  if (h.connection != caller.connection) {
    report(ViolationKind::ConnectionMismatch, caller, h.sequence);
  }
}

void CountingAllocator::retire(void* user, const Caller& caller) {
  const BlockHeader& h = GuardedHeap::header(user);
  ledger_.count_free({h.connection, static_cast<AllocOwner>(h.owner), h.site, h.pass}, h.size,
                     caller.connection, caller.pass);
  heap_.retire(user);
}

void CountingAllocator::drain_quarantine() {
  std::lock_guard lock(mu_);
  heap_.drain();
}

void CountingAllocator::report(ViolationKind kind, const Caller& caller, std::uint64_t sequence) {
  ++violation_count_;
  if (violations_.size() < kMaxViolationsKept) {
    violations_.push_back({kind, caller.connection, caller.owner, caller.pass, sequence});
  }
}

// ---------------------------------------------------------------------------------------------
// Queries.

AllocCounts CountingAllocator::total() const {
  std::lock_guard lock(mu_);
  return ledger_.total();
}

AllocCounts CountingAllocator::for_connection(std::uint32_t connection) const {
  std::lock_guard lock(mu_);
  return ledger_.for_connection(connection);
}

AllocCounts CountingAllocator::for_owner(std::uint32_t connection, AllocOwner owner) const {
  std::lock_guard lock(mu_);
  return ledger_.for_owner(connection, owner);
}

AllocCounts CountingAllocator::for_site(std::uint32_t connection, AllocSite site) const {
  std::lock_guard lock(mu_);
  return ledger_.for_site(connection, site);
}

std::vector<SiteCounts> CountingAllocator::sites() const {
  std::lock_guard lock(mu_);
  return ledger_.sites();
}

PassCounts CountingAllocator::for_pass(std::uint32_t connection, std::uint64_t pass) const {
  std::lock_guard lock(mu_);
  return ledger_.for_pass(connection, pass);
}

AllocCounts CountingAllocator::for_pass(std::uint32_t connection, std::uint64_t pass,
                                        AllocOwner owner) const {
  std::lock_guard lock(mu_);
  return ledger_.for_pass(connection, pass, owner);
}

std::vector<PassCounts> CountingAllocator::passes(std::uint32_t connection) const {
  std::lock_guard lock(mu_);
  return ledger_.passes(connection);
}

std::uint64_t CountingAllocator::violation_count() const {
  std::lock_guard lock(mu_);
  return violation_count_;
}

std::vector<Violation> CountingAllocator::violations() const {
  std::lock_guard lock(mu_);
  return violations_;
}

std::vector<Leak> CountingAllocator::leaks() const {
  std::lock_guard lock(mu_);
  return heap_.leaks();
}

bool CountingAllocator::all_freed(std::uint32_t connection) const {
  std::lock_guard lock(mu_);
  return ledger_.all_freed(connection);
}

bool CountingAllocator::openssl_counted() const {
  return registered_ && openssl_mem_hooks() == OpenSslHooks::Installed;
}

std::uint64_t CountingAllocator::quarantined_bytes() const {
  std::lock_guard lock(mu_);
  return heap_.quarantined_bytes();
}

}  // namespace emitlab::sim
