#include "sim/openssl_mem.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>

#include "sim/counting_allocator.h"
#include "sim/counting_block.h"
#include "sim/slab_heap.h"

namespace emitlab::sim {

using detail::BlockHeader;
using detail::header_of;
using detail::kHeaderSize;

namespace {

// Everything here is constant-initialised and trivially destructible (or never destroyed in
// practice), because OpenSSL's atexit cleanup frees through the hooks after static destructors
// of later-initialised objects have run.
constexpr std::size_t kRegistrySlots = 64;
struct Slot {
  std::uint32_t id = 0;
  CountingAllocator* allocator = nullptr;
};
constinit std::mutex g_registry_mu;
constinit std::array<Slot, kRegistrySlots> g_slots{};
constinit std::atomic<std::uint32_t> g_next_id{1};
constinit std::atomic<OpenSslHooks> g_state{OpenSslHooks::NotInstalled};
constinit std::mutex g_install_mu;

constinit std::atomic<std::uint64_t> g_allocations{0};
constinit std::atomic<std::uint64_t> g_frees{0};
constinit std::atomic<std::uint64_t> g_live_bytes{0};
constinit std::atomic<std::uint64_t> g_orphan_frees{0};
constinit std::atomic<std::uint64_t> g_corrupt{0};

thread_local constinit const OpenSslAttribution* t_scope = nullptr;

CountingAllocator* find_allocator(std::uint32_t id) {  // g_registry_mu held
  for (const Slot& s : g_slots) {
    if (s.id == id) return s.allocator;
  }
  return nullptr;
}

// ---- unattributed blocks: plain malloc behind the same header ----

void* unattributed_malloc(std::size_t num) {
  if (num > std::numeric_limits<std::size_t>::max() - kHeaderSize) return nullptr;
  auto* h = static_cast<BlockHeader*>(std::malloc(kHeaderSize + num));
  if (h == nullptr) return nullptr;
  *h = BlockHeader{num,
                   0,
                   0,
                   0,
                   0,
                   static_cast<std::uint8_t>(AllocOwner::OpenSsl),
                   detail::kNoSite,
                   0,
                   0,
                   detail::kBlockMagic,
                   0,
                   0};
  detail::seal(*h);
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_live_bytes.fetch_add(num, std::memory_order_relaxed);
  return detail::user_of(h);
}

void unattributed_free(BlockHeader* h) {
  g_frees.fetch_add(1, std::memory_order_relaxed);
  g_live_bytes.fetch_sub(h->size, std::memory_order_relaxed);
  std::free(h);
}

void* unattributed_realloc(BlockHeader* h, std::size_t num) {
  if (num > std::numeric_limits<std::size_t>::max() - kHeaderSize) return nullptr;
  const std::uint64_t old_size = h->size;
  auto* moved = static_cast<BlockHeader*>(std::realloc(h, kHeaderSize + num));
  if (moved == nullptr) return nullptr;  // the old block is untouched
  moved->size = num;
  detail::seal(*moved);
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_frees.fetch_add(1, std::memory_order_relaxed);
  g_live_bytes.fetch_add(num, std::memory_order_relaxed);
  g_live_bytes.fetch_sub(old_size, std::memory_order_relaxed);
  return detail::user_of(moved);
}

// A block whose allocator is gone: its slab chunk was kept for it, or it came from malloc.
void free_orphan(BlockHeader* h) {
  g_orphan_frees.fetch_add(1, std::memory_order_relaxed);
  if (!release_orphan(h)) std::free(h);
}

// A block whose allocator is gone: copy it into an unattributed block.
void* orphan_realloc(BlockHeader* h, std::size_t num) {
  void* fresh = unattributed_malloc(num);
  if (fresh == nullptr) return nullptr;
  std::memcpy(fresh, detail::user_of(h), std::min<std::uint64_t>(h->size, num));
  free_orphan(h);
  return fresh;
}

}  // namespace

// ---- the bridge into CountingAllocator's private interface ----

struct OpenSslRouting {
  static void* allocate(const OpenSslAttribution& scope, std::size_t num) {
    return scope.counting().acquire(
        num, {scope.connection(), AllocOwner::OpenSsl, detail::kNoSite, scope.pass()});
  }
  // A free is charged to the scope's pass when the scope belongs to the block's allocator;
  // otherwise to "outside passes" of the block's own connection.
  static CountingAllocator::Caller caller(const CountingAllocator& owner, const BlockHeader& h) {
    const OpenSslAttribution* s = t_scope;
    if (s != nullptr && &s->counting() == &owner) {
      return {s->connection(), AllocOwner::OpenSsl, detail::kNoSite, s->pass(), false};
    }
    return {h.connection, AllocOwner::OpenSsl, detail::kNoSite, 0, false};
  }
  static void release(CountingAllocator& owner, void* user) {
    owner.release(user, caller(owner, *header_of(user)));
  }
  static void* resize(CountingAllocator& owner, void* user, std::size_t num) {
    return owner.resize(user, num, caller(owner, *header_of(user)));
  }
};

namespace {

// ---- the three hooks ----

void* hook_malloc(std::size_t num, const char* /*file*/, int /*line*/) {
  if (const OpenSslAttribution* scope = t_scope) return OpenSslRouting::allocate(*scope, num);
  return unattributed_malloc(num);
}

void hook_free(void* user, const char* /*file*/, int /*line*/) {
  if (user == nullptr) return;
  BlockHeader* h = header_of(user);
  if (!detail::intact(*h)) {  // not safely freeable: leak it and say so
    g_corrupt.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (h->allocator == 0) return unattributed_free(h);
  // The registry lock keeps the allocator alive while it takes the block back.
  std::lock_guard lock(g_registry_mu);
  if (CountingAllocator* owner = find_allocator(h->allocator)) {
    return OpenSslRouting::release(*owner, user);
  }
  free_orphan(h);
}

void* hook_realloc(void* user, std::size_t num, const char* file, int line) {
  if (user == nullptr) return hook_malloc(num, file, line);
  if (num == 0) {  // as CRYPTO_realloc: free and return NULL
    hook_free(user, file, line);
    return nullptr;
  }
  BlockHeader* h = header_of(user);
  if (!detail::intact(*h)) {
    g_corrupt.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (h->allocator == 0) return unattributed_realloc(h, num);
  std::lock_guard lock(g_registry_mu);
  if (CountingAllocator* owner = find_allocator(h->allocator)) {
    return OpenSslRouting::resize(*owner, user, num);
  }
  return orphan_realloc(h, num);
}

}  // namespace

// ---- registry ----

namespace detail {

std::uint32_t next_allocator_id() {
  return g_next_id.fetch_add(1, std::memory_order_relaxed);
}

bool register_allocator(std::uint32_t id, CountingAllocator* allocator) {
  std::lock_guard lock(g_registry_mu);
  for (Slot& s : g_slots) {
    if (s.id != 0) continue;
    s = {id, allocator};
    return true;
  }
  return false;
}

void unregister_allocator(std::uint32_t id, void (*abandon)(CountingAllocator&),
                          CountingAllocator& allocator) {
  std::lock_guard lock(g_registry_mu);
  for (Slot& s : g_slots) {
    if (s.id == id) s = {};
  }
  abandon(allocator);
}

}  // namespace detail

// ---- public API ----

std::string_view to_string(OpenSslHooks state) {
  switch (state) {
    case OpenSslHooks::NotInstalled:
      return "not_installed";
    case OpenSslHooks::Installed:
      return "installed";
    case OpenSslHooks::Refused:
      return "refused";
  }
  return "?";
}

OpenSslHooks install_openssl_mem_hooks() {
  std::lock_guard lock(g_install_mu);
  if (g_state.load() != OpenSslHooks::NotInstalled) return g_state.load();
  const int ok = CRYPTO_set_mem_functions(&hook_malloc, &hook_realloc, &hook_free);
  g_state.store(ok == 1 ? OpenSslHooks::Installed : OpenSslHooks::Refused);
  return g_state.load();
}

OpenSslHooks openssl_mem_hooks() {
  return g_state.load();
}

OpenSslUnattributedStats openssl_unattributed_stats() {
  return {g_allocations.load(), g_frees.load(), g_live_bytes.load(), g_orphan_frees.load(),
          g_corrupt.load()};
}

void release_openssl_thread_state() {
  OPENSSL_thread_stop();
}

OpenSslAttribution::OpenSslAttribution(CountingAllocator& counting, std::uint32_t connection,
                                       std::uint64_t pass)
    : counting_(&counting),
      connection_(connection),
      pass_(pass),
      previous_(t_scope),
      active_(counting.openssl_counted()) {
  // An inert scope still suspends an outer one: its allocations must not land elsewhere.
  t_scope = active_ ? this : nullptr;
}

OpenSslAttribution::~OpenSslAttribution() {
  t_scope = previous_;
}

OpenSslUnattributed::OpenSslUnattributed() : previous_(t_scope) {
  t_scope = nullptr;
}

OpenSslUnattributed::~OpenSslUnattributed() {
  t_scope = previous_;
}

}  // namespace emitlab::sim
