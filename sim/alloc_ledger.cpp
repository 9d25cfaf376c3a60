#include "sim/alloc_ledger.h"

#include <algorithm>

namespace emitlab::sim {

using detail::kNoSite;

namespace {

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

std::optional<AllocSite> site_of(std::uint8_t site) {
  if (site == kNoSite) return std::nullopt;
  return static_cast<AllocSite>(site);
}

}  // namespace

std::size_t AllocLedger::site_row(AllocOwner owner, std::uint8_t site) {
  const std::size_t column = site == kNoSite ? kAllocSites : site;
  return static_cast<std::size_t>(owner) * (kAllocSites + 1) + column;
}

AllocLedger::ConnectionLedger& AllocLedger::ledger(std::uint32_t connection) {
  if (last_ == nullptr || last_connection_ != connection) {
    last_ = &ledgers_[connection];
    last_connection_ = connection;
  }
  return *last_;
}

AllocLedger::PassLedger& AllocLedger::pass_ledger(ConnectionLedger& l, std::uint64_t pass) {
  if (!keep_pass_ledgers_) {
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

const AllocLedger::ConnectionLedger* AllocLedger::find_ledger(std::uint32_t connection) const {
  const auto it = ledgers_.find(connection);
  return it == ledgers_.end() ? nullptr : &it->second;
}

const AllocLedger::PassLedger* AllocLedger::find_pass(std::uint32_t connection,
                                                      std::uint64_t pass) const {
  const ConnectionLedger* l = find_ledger(connection);
  if (l == nullptr) return nullptr;
  if (!keep_pass_ledgers_) {
    if (l->passes.size() < 2 || (pass != 0 && pass != l->latest_pass)) return nullptr;
    const PassLedger& p = l->passes[pass == 0 ? 0 : 1];
    return p.seen ? &p : nullptr;
  }
  if (pass >= l->passes.size() || !l->passes[pass].seen) return nullptr;
  return &l->passes[pass];
}

// Every table a block is charged to, in one place: an allocation bumps and a free drops the
// same rows, so the two cannot drift apart.
template <typename Apply>
void AllocLedger::charge(const BlockOrigin& o, std::uint64_t bytes, Apply apply) {
  apply(total_, bytes);
  ConnectionLedger& c = ledger(o.connection);
  apply(c.counts, bytes);
  apply(c.owners[static_cast<std::size_t>(o.owner)], bytes);
  Row& site = c.sites[site_row(o.owner, o.site)];
  site.seen = true;
  apply(site.counts, bytes);
  PassLedger& pass = pass_ledger(c, o.pass);
  apply(pass.counts, bytes);
  apply(pass.owners[static_cast<std::size_t>(o.owner)], bytes);
}

void AllocLedger::count_alloc(const BlockOrigin& o, std::uint64_t bytes) {
  // A lambda, not the function's address, so that each use is its own instance and inlines.
  charge(o, bytes, [](AllocCounts& c, std::uint64_t b) { bump(c, b); });
}

void AllocLedger::count_free(const BlockOrigin& o, std::uint64_t bytes, std::uint32_t connection,
                             std::uint64_t pass_now) {
  charge(o, bytes, [](AllocCounts& c, std::uint64_t b) { drop(c, b); });
  ++pass_ledger(ledger(connection), pass_now).frees_during;
}

AllocCounts AllocLedger::for_connection(std::uint32_t connection) const {
  const ConnectionLedger* l = find_ledger(connection);
  return l == nullptr ? AllocCounts{} : l->counts;
}

AllocCounts AllocLedger::for_owner(std::uint32_t connection, AllocOwner owner) const {
  const ConnectionLedger* l = find_ledger(connection);
  return l == nullptr ? AllocCounts{} : l->owners[static_cast<std::size_t>(owner)];
}

AllocCounts AllocLedger::for_site(std::uint32_t connection, AllocSite site) const {
  const ConnectionLedger* l = find_ledger(connection);
  if (l == nullptr) return {};
  return l->sites[site_row(AllocOwner::Emitter, static_cast<std::uint8_t>(site))].counts;
}

std::vector<SiteCounts> AllocLedger::sites() const {
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

PassCounts AllocLedger::for_pass(std::uint32_t connection, std::uint64_t pass) const {
  const PassLedger* p = find_pass(connection, pass);
  if (p == nullptr) return PassCounts{connection, pass, {}, 0};
  return PassCounts{connection, pass, p->counts, p->frees_during};
}

AllocCounts AllocLedger::for_pass(std::uint32_t connection, std::uint64_t pass,
                                  AllocOwner owner) const {
  const PassLedger* p = find_pass(connection, pass);
  return p == nullptr ? AllocCounts{} : p->owners[static_cast<std::size_t>(owner)];
}

std::vector<PassCounts> AllocLedger::passes(std::uint32_t connection) const {
  std::vector<PassCounts> out;
  const ConnectionLedger* l = find_ledger(connection);
  if (l == nullptr) return out;
  for (std::uint64_t i = 0; i < l->passes.size(); ++i) {
    const std::uint64_t pass = keep_pass_ledgers_ || i == 0 ? i : l->latest_pass;
    const PassLedger& p = l->passes[i];
    if (p.seen) out.push_back({connection, pass, p.counts, p.frees_during});
  }
  return out;
}

bool AllocLedger::all_freed(std::uint32_t connection) const {
  const ConnectionLedger* l = find_ledger(connection);
  return l == nullptr || (l->counts.live_blocks() == 0 && l->counts.live_bytes == 0);
}

}  // namespace emitlab::sim
