// The Allocator port: every heap allocation the emitter makes for its own bookkeeping goes
// through it, tagged with the pass and the site, so a counting world can attribute it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/pass_record.h"

namespace emitlab {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(std::size_t bytes, AllocSite site, std::uint64_t pass) = 0;
  virtual void deallocate(void* p, std::size_t bytes, AllocSite site, std::uint64_t pass) = 0;
  // Response objects (header table owner and body buffer) are not the emitter's; they are
  // allocated here too so a poisoning allocator can catch a body freed while still queued.
  virtual void* allocate_body(std::size_t bytes) = 0;
  virtual void deallocate_body(void* p, std::size_t bytes) = 0;
};

// malloc-backed allocator for runs that do not count.
Allocator& system_allocator();

// The emitter's view of the port: it charges every allocation to the current pass record.
class EmitterHeap {
 public:
  explicit EmitterHeap(Allocator& port) : port_(&port) {}
  void attach(PassRecord* record) { record_ = record; }
  void* allocate(std::size_t bytes, AllocSite site);
  void deallocate(void* p, std::size_t bytes, AllocSite site);
  Allocator& port() const { return *port_; }

 private:
  Allocator* port_;
  PassRecord* record_ = nullptr;
};

}  // namespace emitlab
