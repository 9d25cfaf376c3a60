#include "core/response.h"

#include <new>
#include <utility>

namespace emitlab {
namespace {
constexpr AllocTag kBodyTag{AllocOwner::Response, AllocSite::GatherList, 0};
}  // namespace

ResponseObject::ResponseObject(Allocator& alloc, Spec spec, bool immutable)
    : alloc_(&alloc), spec_(std::move(spec)), immutable_(immutable) {
  if (spec_.body_size > 0) {
    body_ = static_cast<std::uint8_t*>(alloc_->allocate(spec_.body_size, kBodyTag));
    if (body_ == nullptr) throw std::bad_alloc();
  }
}

ResponseObject::~ResponseObject() {
  if (body_ != nullptr) alloc_->deallocate(body_, kBodyTag);
}

ResponseObject* ResponseObject::create(Allocator& alloc, Spec spec, const BodyFill& fill) {
  auto obj = std::make_unique<ResponseObject>(alloc, std::move(spec), false);
  if (fill && obj->body_ != nullptr) fill({obj->body_, obj->spec_.body_size});
  return obj.release();  // ownership now lives in the reference count
}

ResponseObject* ResponseObject::create_shared(Allocator& alloc, Spec spec, const BodyFill& fill) {
  auto obj = std::make_unique<ResponseObject>(alloc, std::move(spec), true);
  if (fill && obj->body_ != nullptr) fill({obj->body_, obj->spec_.body_size});
  return obj.release();  // owned by whoever calls destroy_shared
}

void ResponseObject::destroy_shared(ResponseObject* shared) {
  if (shared != nullptr && shared->immutable_) std::unique_ptr<ResponseObject>{shared}.reset();
}

bool ResponseObject::retain(bool touch_immutable) {
  if (immutable_ && !touch_immutable) return false;
  ++refs_;
  return true;
}

bool ResponseObject::release(ResponseObject* obj, bool* destroyed) {
  *destroyed = false;
  if (obj == nullptr || obj->immutable_) return false;
  if (--obj->refs_ == 0) {
    std::unique_ptr<ResponseObject>{obj}.reset();  // reclaims what create() released
    *destroyed = true;
  }
  return true;
}

void ResponseObject::defer_release(ResponseObject*& head) {
  if (deferred_releases_++ == 0) {
    release_link_ = head;
    head = this;
  }
}

void ResponseObject::release_deferred(ResponseObject*& head, std::uint32_t* releases,
                                      std::uint32_t* destroyed) {
  while (head != nullptr) {
    ResponseObject* obj = std::exchange(head, head->release_link_);
    const std::uint32_t n = std::exchange(obj->deferred_releases_, 0);
    obj->release_link_ = nullptr;
    for (std::uint32_t i = 0; i < n; ++i) {
      bool gone = false;
      release(obj, &gone);
      ++*releases;
      *destroyed += gone ? 1 : 0;
    }
  }
}

ResponseRef& ResponseRef::operator=(ResponseRef&& o) noexcept {
  if (this != &o) {
    reset();
    obj_ = std::exchange(o.obj_, nullptr);
  }
  return *this;
}

bool ResponseRef::reset() {
  bool destroyed = false;
  ResponseObject::release(std::exchange(obj_, nullptr), &destroyed);
  return destroyed;
}

}  // namespace emitlab
