// Response objects: the model of the server's response (a header table plus a body buffer).
// Mutable responses are reference counted and torn down when the last reference goes.
// Immutable shared responses model interned strings: retain and release are no-ops on them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "core/allocator.h"
#include "core/header_table.h"

namespace emitlab {

class ResponseObject {
 public:
  struct Spec {
    int status = 200;
    HeaderTable headers;
    std::size_t body_size = 0;
    HeaderTable trailers;
  };
  using BodyFill = std::function<void(std::span<std::uint8_t>)>;

  // A mutable response holding one reference, owned by the returned handle.
  static ResponseObject* create(Allocator& alloc, Spec spec, const BodyFill& fill);
  // An immutable response: its storage lives until `destroy_shared` is called by its owner.
  static ResponseObject* create_shared(Allocator& alloc, Spec spec, const BodyFill& fill);
  static void destroy_shared(ResponseObject* shared);

  // Returns true when a reference was really taken (false for immutable objects). The bug
  // zoo's refcount-on-immutable mutant passes `touch_immutable` and takes one anyway, as
  // upstream's GC_ADDREF on interned strings did before a7b3102 (their release stays a no-op).
  bool retain(bool touch_immutable = false);
  // Returns true when a reference was really dropped; *destroyed tells whether it was the last.
  static bool release(ResponseObject* obj, bool* destroyed);

  // A3's release queue is intrusive, so a stream closing inside a pass never allocates:
  // the object links itself into `head` (once, however many releases it defers).
  void defer_release(ResponseObject*& head);
  // Releases every deferred reference of the list; returns how many, and counts teardowns.
  static void release_deferred(ResponseObject*& head, std::uint32_t* releases,
                               std::uint32_t* destroyed);

  bool immutable() const { return immutable_; }
  int status() const { return spec_.status; }
  const HeaderTable& headers() const { return spec_.headers; }
  const HeaderTable& trailers() const { return spec_.trailers; }
  std::span<const std::uint8_t> body() const { return {body_, spec_.body_size}; }
  std::uint32_t refcount() const { return refs_; }

  ResponseObject(Allocator& alloc, Spec spec, bool immutable);
  ~ResponseObject();
  ResponseObject(const ResponseObject&) = delete;
  ResponseObject& operator=(const ResponseObject&) = delete;

 private:
  Allocator* alloc_;
  Spec spec_;
  std::uint8_t* body_ = nullptr;
  std::uint32_t refs_ = 1;
  std::uint32_t deferred_releases_ = 0;
  ResponseObject* release_link_ = nullptr;
  bool immutable_;
};

// An owning reference (the stream's or the handler's). Moves transfer it; destruction drops it.
class ResponseRef {
 public:
  ResponseRef() = default;
  explicit ResponseRef(ResponseObject* adopted) : obj_(adopted) {}
  ResponseRef(ResponseRef&& o) noexcept : obj_(o.obj_) { o.obj_ = nullptr; }
  ResponseRef& operator=(ResponseRef&& o) noexcept;
  ResponseRef(const ResponseRef&) = delete;
  ResponseRef& operator=(const ResponseRef&) = delete;
  ~ResponseRef() { reset(); }

  ResponseObject* get() const { return obj_; }
  ResponseObject* operator->() const { return obj_; }
  explicit operator bool() const { return obj_ != nullptr; }
  // Drops the reference; returns true when that destroyed the object.
  bool reset();

 private:
  ResponseObject* obj_ = nullptr;
};

}  // namespace emitlab
