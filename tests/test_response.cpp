// Response objects: reference counting, teardown, and immutable shared bodies.
#define BOOST_TEST_MODULE response
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "core/response.h"

using emitlab::Allocator;
using emitlab::AllocOwner;
using emitlab::AllocTag;
using emitlab::ResponseObject;
using emitlab::ResponseRef;

namespace {

// Counts body allocations so teardown is observable.
class BodyCounter final : public Allocator {
 public:
  void* allocate(std::size_t n, const AllocTag& t) override {
    live += t.owner == AllocOwner::Response ? 1 : 0;
    return emitlab::system_allocator().allocate(n, t);
  }
  void deallocate(void* q, const AllocTag& t) override {
    live -= t.owner == AllocOwner::Response ? 1 : 0;
    emitlab::system_allocator().deallocate(q, t);
  }
  void* reallocate(void* q, std::size_t n, const AllocTag& t) override {
    return emitlab::system_allocator().reallocate(q, n, t);
  }
  int live = 0;
};

ResponseObject::Spec spec(std::size_t body) {
  ResponseObject::Spec s;
  s.headers = {{"content-type", "text/plain"}};
  s.body_size = body;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(last_release_tears_the_response_down) {
  BodyCounter alloc;
  auto fill = [](std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i);
  };
  ResponseRef owner(ResponseObject::create(alloc, spec(100), fill));
  BOOST_TEST(alloc.live == 1);
  BOOST_TEST(owner->body()[99] == 99);
  ResponseObject* raw = owner.get();
  BOOST_TEST(raw->retain());
  BOOST_TEST(raw->refcount() == 2U);
  BOOST_TEST(!owner.reset());  // the emitter's reference keeps it alive
  BOOST_TEST(alloc.live == 1);
  bool destroyed = false;
  BOOST_TEST(ResponseObject::release(raw, &destroyed));
  BOOST_TEST(destroyed);
  BOOST_TEST(alloc.live == 0);
}

BOOST_AUTO_TEST_CASE(immutable_shared_responses_ignore_retain_and_release) {
  BodyCounter alloc;
  ResponseObject* shared = ResponseObject::create_shared(alloc, spec(10), nullptr);
  BOOST_TEST(shared->immutable());
  BOOST_TEST(!shared->retain());
  bool destroyed = true;
  BOOST_TEST(!ResponseObject::release(shared, &destroyed));
  BOOST_TEST(!destroyed);
  {
    ResponseRef a(shared);
    ResponseRef b(shared);
  }  // two owners dropped: still alive
  BOOST_TEST(shared->refcount() == 1U);
  BOOST_TEST(alloc.live == 1);
  ResponseObject::destroy_shared(shared);
  BOOST_TEST(alloc.live == 0);
}

BOOST_AUTO_TEST_CASE(empty_bodies_allocate_nothing) {
  BodyCounter alloc;
  ResponseRef r(ResponseObject::create(alloc, spec(0), nullptr));
  BOOST_TEST(alloc.live == 0);
  BOOST_TEST(r->body().empty());
}
