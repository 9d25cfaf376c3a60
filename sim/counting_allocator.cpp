#include "sim/counting_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "sim/counting_block.h"
#include "sim/openssl_mem.h"

namespace emitlab::sim {

using detail::BlockHeader;
using detail::header_of;
using detail::kHeaderSize;
using detail::kNoSite;

namespace detail {

std::uint32_t header_canary(const BlockHeader& h) {
  // A multiply-xor fold of every field except `quarantined`: any stray write into the header
  // (an underflow of the block before or of this one) changes it with near certainty.
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto mix = [&x](std::uint64_t v) {
    x = (x ^ v) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
  };
  mix(h.size);
  mix(h.sequence);
  mix(h.pass);
  mix((std::uint64_t{h.allocator} << 32) | h.connection);
  mix((std::uint64_t{h.magic} << 32) | (std::uint64_t{h.spare} << 24) |
      (std::uint64_t{h.owner} << 16) | (std::uint64_t{h.site} << 8) | h.reserved);
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}

}  // namespace detail

namespace {

std::optional<AllocSite> site_of(std::uint8_t site) {
  if (site == kNoSite) return std::nullopt;
  return static_cast<AllocSite>(site);
}

std::uint8_t site_for(AllocOwner owner, AllocSite site) {
  // Only the emitter's site means something; other owners share one row per connection.
  return owner == AllocOwner::Emitter ? static_cast<std::uint8_t>(site) : kNoSite;
}

void bump(AllocCounts& c, std::uint64_t bytes) {
  ++c.allocations;
  c.bytes_allocated += bytes;
  c.live_bytes += bytes;
  c.peak_live_bytes = std::max(c.peak_live_bytes, c.live_bytes);
}

void drop(AllocCounts& c, std::uint64_t bytes) {
  ++c.frees;
  c.bytes_freed += bytes;
  c.live_bytes -= bytes;
}

std::string site_text(const std::optional<AllocSite>& site) {
  return site ? ", site " + std::string(to_string(*site)) : std::string();
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

std::string to_string(const AllocationAttempt& f) {
  return "allocation #" + std::to_string(f.n) + (f.reallocation ? " (realloc)" : "") +
         ": connection " + std::to_string(f.connection) + ", owner " +
         std::string(to_string(f.owner)) + site_text(f.site) + ", pass " + std::to_string(f.pass) +
         ", " + std::to_string(f.bytes) + " bytes";
}

std::string to_string(const Leak& l) {
  return "block #" + std::to_string(l.sequence) + ": connection " + std::to_string(l.connection) +
         ", owner " + std::string(to_string(l.owner)) + site_text(l.site) + ", pass " +
         std::to_string(l.pass) + ", " + std::to_string(l.bytes) + " bytes";
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
    : config_(config), id_(detail::next_allocator_id()) {
  registered_ = detail::register_allocator(id_, this);
}

CountingAllocator::~CountingAllocator() {
  // Unregister first: an OpenSSL block freed from now on is routed around this object.
  if (registered_) detail::unregister_allocator(id_);
  std::lock_guard lock(mu_);
  drain_locked();
}

emitlab::Allocator& CountingAllocator::port(std::uint32_t connection) {
  std::lock_guard lock(mu_);
  auto& slot = ports_[connection];
  if (!slot) slot = std::make_unique<Port>(*this, connection);
  return *slot;
}

void CountingAllocator::fail_at(std::uint64_t n) {
  std::lock_guard lock(mu_);
  fail_at_ = n;
}

std::uint64_t CountingAllocator::allocations_so_far() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

std::optional<InjectedFailure> CountingAllocator::injected_failure() const {
  std::lock_guard lock(mu_);
  return injected_;
}

// ---------------------------------------------------------------------------------------------
// Allocation, free and resize.

// The three entry points are noexcept: they are called from C (nghttp2, OpenSSL), and the
// bookkeeping containers can throw std::bad_alloc only on a real out-of-memory, which then
// reads as a failed allocation (or, for a free, leaves the block counted live).
void* CountingAllocator::acquire(std::size_t bytes, const Origin& origin) noexcept {
  try {
    std::lock_guard lock(mu_);
    if (!take_attempt(bytes, origin, false)) return nullptr;
    return carve(bytes, origin);
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
  const BlockHeader& old = *header_of(user);
  // The block keeps its connection and owner; the new allocation belongs to the caller's pass.
  const Origin origin{old.connection, static_cast<AllocOwner>(old.owner), old.site, caller.pass};
  if (!take_attempt(bytes, origin, true)) return nullptr;  // the old block stays valid
  void* fresh = carve(bytes, origin);
  if (fresh == nullptr) return nullptr;
  // Never in place: a pointer kept into the old block must read poison, not the new data.
  std::memcpy(fresh, user, std::min<std::uint64_t>(old.size, bytes));
  retire(user, caller);
  return fresh;
}

bool CountingAllocator::take_attempt(std::size_t bytes, const Origin& origin, bool reallocation) {
  ++attempts_;
  const AllocationAttempt attempt{
      attempts_, origin.connection, origin.owner, site_of(origin.site), origin.pass,
      bytes,     reallocation};
  if (recording_) attempts_log_.push_back(attempt);
  if (attempts_ != fail_at_) return true;
  fail_at_ = 0;  // exactly once
  injected_ = attempt;
  return false;
}

void CountingAllocator::record_attempts(bool on) {
  std::lock_guard lock(mu_);
  recording_ = on;
}

std::vector<AllocationAttempt> CountingAllocator::attempts() const {
  std::lock_guard lock(mu_);
  return attempts_log_;
}

void* CountingAllocator::carve(std::size_t bytes, const Origin& origin) {
  if (bytes > std::numeric_limits<std::size_t>::max() - kHeaderSize) return nullptr;
  // The one place this allocator touches the system heap for a block.
  void* raw = std::malloc(kHeaderSize + bytes);
  if (raw == nullptr) return nullptr;
  auto* h = static_cast<BlockHeader*>(raw);
  *h = BlockHeader{bytes,
                   attempts_,
                   origin.pass,
                   id_,
                   origin.connection,
                   static_cast<std::uint8_t>(origin.owner),
                   origin.site,
                   0,
                   0,
                   detail::kBlockMagic,
                   0,
                   0};
  detail::seal(*h);
  void* user = detail::user_of(h);
  try {
    live_.insert(user);
    count_alloc(origin, bytes);
  } catch (...) {
    live_.erase(user);
    std::free(raw);
    throw;
  }
  return user;
}

// Decides whether `user` may be freed; reports why not. A pointer that is not a live block of
// ours is never dereferenced unless it is still quarantined (then its memory is ours).
bool CountingAllocator::admit(void* user, const Caller& caller) {
  if (live_.contains(user)) {
    BlockHeader* h = header_of(user);
    if (!detail::intact(*h)) {
      // Size and owner are untrustworthy: release the memory, leave the counts (the block
      // stays counted live, and the violation says why).
      report(ViolationKind::HeaderCorrupt, caller, 0);
      live_.erase(user);
      std::free(h);
      return false;
    }
    if (caller.checked) check_tag(user, caller);
    return true;
  }
  if (quarantined_.contains(user)) {
    report(ViolationKind::DoubleFree, caller, header_of(user)->sequence);
    return false;
  }
  report(ViolationKind::UnknownPointer, caller, 0);
  return false;
}

void CountingAllocator::check_tag(const void* user, const Caller& caller) {
  const BlockHeader& h = *header_of(const_cast<void*>(user));
  if (h.owner != static_cast<std::uint8_t>(caller.owner) || h.site != caller.site) {
    report(ViolationKind::OwnerMismatch, caller, h.sequence);
  }
  if (h.connection != caller.connection) {
    report(ViolationKind::ConnectionMismatch, caller, h.sequence);
  }
}

void CountingAllocator::retire(void* user, const Caller& caller) {
  const BlockHeader& h = *header_of(user);
  count_free({h.connection, static_cast<AllocOwner>(h.owner), h.site, h.pass}, h.size, caller);
  live_.erase(user);
  quarantine(user);
}

void CountingAllocator::quarantine(void* user) {
  BlockHeader* h = header_of(user);
  h->quarantined = 1;
  std::memset(user, kPoisonByte, h->size);
  if (config_.quarantine_bytes == 0) {
    std::free(h);
    return;
  }
  quarantine_fifo_.push_back(user);
  quarantined_.insert(user);
  quarantine_bytes_ += kHeaderSize + h->size;
  while (quarantine_bytes_ > config_.quarantine_bytes && quarantine_fifo_.size() > 1) {
    void* oldest = quarantine_fifo_.front();
    quarantine_fifo_.pop_front();
    quarantined_.erase(oldest);
    quarantine_bytes_ -= kHeaderSize + header_of(oldest)->size;
    std::free(header_of(oldest));
  }
}

void CountingAllocator::drain_quarantine() {
  std::lock_guard lock(mu_);
  drain_locked();
}

void CountingAllocator::drain_locked() {
  for (void* user : quarantine_fifo_) std::free(header_of(user));
  quarantine_fifo_.clear();
  quarantined_.clear();
  quarantine_bytes_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Counting.

std::size_t CountingAllocator::site_row(AllocOwner owner, std::uint8_t site) {
  const std::size_t column = site == kNoSite ? kAllocSites : site;
  return static_cast<std::size_t>(owner) * (kAllocSites + 1) + column;
}

CountingAllocator::ConnectionLedger& CountingAllocator::ledger(std::uint32_t connection) {
  return ledgers_[connection];
}

CountingAllocator::PassLedger& CountingAllocator::pass_ledger(std::uint32_t connection,
                                                              std::uint64_t pass) {
  ConnectionLedger& l = ledger(connection);
  if (!config_.keep_pass_ledgers) {
    if (l.passes.size() < 2) l.passes.resize(2);
    if (pass > l.latest_pass) {
      l.latest_pass = pass;
      l.passes[1] = PassLedger{};
    }
    PassLedger& p = pass == 0 ? l.passes[0] : pass == l.latest_pass ? l.passes[1] : forgotten_pass_;
    p.seen = true;
    return p;
  }
  if (pass >= l.passes.size()) l.passes.resize(pass + 1);
  PassLedger& p = l.passes[pass];
  p.seen = true;
  return p;
}

const CountingAllocator::ConnectionLedger* CountingAllocator::find_ledger(
    std::uint32_t connection) const {
  const auto it = ledgers_.find(connection);
  return it == ledgers_.end() ? nullptr : &it->second;
}

const CountingAllocator::PassLedger* CountingAllocator::find_pass(std::uint32_t connection,
                                                                  std::uint64_t pass) const {
  const ConnectionLedger* l = find_ledger(connection);
  if (l == nullptr) return nullptr;
  if (!config_.keep_pass_ledgers) {
    if (l->passes.size() < 2 || (pass != 0 && pass != l->latest_pass)) return nullptr;
    const PassLedger& p = l->passes[pass == 0 ? 0 : 1];
    return p.seen ? &p : nullptr;
  }
  if (pass >= l->passes.size() || !l->passes[pass].seen) return nullptr;
  return &l->passes[pass];
}

void CountingAllocator::count_alloc(const Origin& o, std::uint64_t bytes) {
  bump(total_, bytes);
  ConnectionLedger& c = ledger(o.connection);
  bump(c.counts, bytes);
  bump(c.owners[static_cast<std::size_t>(o.owner)], bytes);
  Row& site = c.sites[site_row(o.owner, o.site)];
  site.seen = true;
  bump(site.counts, bytes);
  PassLedger& pass = pass_ledger(o.connection, o.pass);
  bump(pass.counts, bytes);
  bump(pass.owners[static_cast<std::size_t>(o.owner)], bytes);
}

void CountingAllocator::count_free(const Origin& o, std::uint64_t bytes, const Caller& caller) {
  drop(total_, bytes);
  ConnectionLedger& c = ledger(o.connection);
  drop(c.counts, bytes);
  drop(c.owners[static_cast<std::size_t>(o.owner)], bytes);
  Row& site = c.sites[site_row(o.owner, o.site)];
  site.seen = true;
  drop(site.counts, bytes);
  PassLedger& pass = pass_ledger(o.connection, o.pass);
  drop(pass.counts, bytes);
  drop(pass.owners[static_cast<std::size_t>(o.owner)], bytes);
  ++pass_ledger(caller.connection, caller.pass).frees_during;
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
  return total_;
}

AllocCounts CountingAllocator::for_connection(std::uint32_t connection) const {
  std::lock_guard lock(mu_);
  const ConnectionLedger* l = find_ledger(connection);
  return l == nullptr ? AllocCounts{} : l->counts;
}

AllocCounts CountingAllocator::for_owner(std::uint32_t connection, AllocOwner owner) const {
  std::lock_guard lock(mu_);
  const ConnectionLedger* l = find_ledger(connection);
  return l == nullptr ? AllocCounts{} : l->owners[static_cast<std::size_t>(owner)];
}

AllocCounts CountingAllocator::for_site(std::uint32_t connection, AllocSite site) const {
  std::lock_guard lock(mu_);
  const ConnectionLedger* l = find_ledger(connection);
  if (l == nullptr) return {};
  return l->sites[site_row(AllocOwner::Emitter, static_cast<std::uint8_t>(site))].counts;
}

std::vector<SiteCounts> CountingAllocator::sites() const {
  std::lock_guard lock(mu_);
  std::vector<SiteCounts> out;
  for (const auto& [connection, l] : ledgers_) {
    for (std::size_t row = 0; row < kSiteRows; ++row) {
      if (!l.sites[row].seen) continue;
      const auto owner = static_cast<AllocOwner>(row / (kAllocSites + 1));
      const std::size_t column = row % (kAllocSites + 1);
      const std::uint8_t site = column == kAllocSites ? kNoSite : static_cast<std::uint8_t>(column);
      out.push_back({connection, owner, site_of(site), l.sites[row].counts});
    }
  }
  return out;
}

PassCounts CountingAllocator::for_pass(std::uint32_t connection, std::uint64_t pass) const {
  std::lock_guard lock(mu_);
  const PassLedger* p = find_pass(connection, pass);
  if (p == nullptr) return PassCounts{connection, pass, {}, 0};
  return PassCounts{connection, pass, p->counts, p->frees_during};
}

AllocCounts CountingAllocator::for_pass(std::uint32_t connection, std::uint64_t pass,
                                        AllocOwner owner) const {
  std::lock_guard lock(mu_);
  const PassLedger* p = find_pass(connection, pass);
  return p == nullptr ? AllocCounts{} : p->owners[static_cast<std::size_t>(owner)];
}

std::vector<PassCounts> CountingAllocator::passes(std::uint32_t connection) const {
  std::lock_guard lock(mu_);
  std::vector<PassCounts> out;
  const ConnectionLedger* l = find_ledger(connection);
  if (l == nullptr) return out;
  for (std::uint64_t i = 0; i < l->passes.size(); ++i) {
    const std::uint64_t pass = config_.keep_pass_ledgers || i == 0 ? i : l->latest_pass;
    const PassLedger& p = l->passes[i];
    if (p.seen) out.push_back({connection, pass, p.counts, p.frees_during});
  }
  return out;
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
  std::vector<Leak> out;
  out.reserve(live_.size());
  live_.for_each([&out](void* user) {  // address order; sorted below so the output is not
    const BlockHeader& h = *header_of(user);
    out.push_back({h.sequence, h.connection, static_cast<AllocOwner>(h.owner), site_of(h.site),
                   h.pass, h.size});
  });
  std::sort(out.begin(), out.end(),
            [](const Leak& a, const Leak& b) { return a.sequence < b.sequence; });
  return out;
}

bool CountingAllocator::all_freed(std::uint32_t connection) const {
  std::lock_guard lock(mu_);
  const ConnectionLedger* l = find_ledger(connection);
  return l == nullptr || (l->counts.live_blocks() == 0 && l->counts.live_bytes == 0);
}

bool CountingAllocator::openssl_counted() const {
  return registered_ && openssl_mem_hooks() == OpenSslHooks::Installed;
}

std::uint64_t CountingAllocator::quarantined_bytes() const {
  std::lock_guard lock(mu_);
  return quarantine_bytes_;
}

}  // namespace emitlab::sim
