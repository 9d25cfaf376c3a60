#include "sim/workload.h"

#include <charconv>
#include <cstdio>

#include "sim/body_pattern.h"
#include "sim/prng.h"

namespace emitlab::sim {
namespace {

// Tags that keep the workload's hashes apart from each other.
enum : std::uint64_t { kKindTag = 1, kSizeTag, kTrailerTag, kHeaderCountTag, kHeaderTag };

std::uint64_t in_range(std::uint64_t h, const Range& r) {
  return r.max <= r.min ? r.min : r.min + h % (r.max - r.min + 1);
}

}  // namespace

std::string_view to_string(ResponseKind k) {
  switch (k) {
    case ResponseKind::Buffered:
      return "buffered";
    case ResponseKind::Streaming:
      return "streaming";
    case ResponseKind::Head:
      return "head";
    case ResponseKind::Empty:
      return "empty";
    case ResponseKind::Shared:
      return "shared";
  }
  return "?";
}

Workload::Workload(const Scenario& scenario) : scenario_(&scenario) {}

std::uint64_t Workload::hash(std::uint64_t request_id, std::uint64_t what) const {
  return mix_all(mix_all(scenario_->seed, request_id), what);
}

ResponsePlan Workload::response(std::uint64_t id) const {
  const auto& w = scenario_->workload;
  const ResponseKinds& k = w.kinds;
  std::uint64_t pick = hash(id, kKindTag) % k.total();
  ResponsePlan plan;
  const std::pair<std::uint32_t, ResponseKind> weights[] = {{k.buffered, ResponseKind::Buffered},
                                                            {k.streaming, ResponseKind::Streaming},
                                                            {k.head, ResponseKind::Head},
                                                            {k.empty, ResponseKind::Empty},
                                                            {k.shared, ResponseKind::Shared}};
  for (const auto& [weight, kind] : weights) {
    if (pick < weight) {
      plan.kind = kind;
      break;
    }
    pick -= weight;
  }
  const std::uint64_t size = in_range(hash(id, kSizeTag), w.body);
  switch (plan.kind) {
    case ResponseKind::Buffered:
    case ResponseKind::Streaming:
      plan.body_size = size;
      plan.trailers = hash(id, kTrailerTag) % 1000 < w.trailers_permille;
      break;
    case ResponseKind::Head:
      plan.declared_size = size;
      break;
    case ResponseKind::Empty:
      break;
    case ResponseKind::Shared:
      plan.body_size = shared_body_size();
      break;
  }
  return plan;
}

RequestSpec Workload::request(std::uint64_t id) const {
  const auto& w = scenario_->workload;
  RequestSpec spec;
  if (response(id).kind == ResponseKind::Head) spec.method = "HEAD";
  const std::uint64_t count = in_range(hash(id, kHeaderCountTag), w.request_headers);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t h = hash(id, kHeaderTag + i);
    std::string value(in_range(h, w.header_value), 'a');
    for (char& c : value) {
      h = mix64(h);
      c = static_cast<char>('a' + h % 26);
    }
    spec.headers.push_back({"x-emitlab-h" + std::to_string(i), std::move(value)});
  }
  return spec;
}

std::string Workload::header_digest(const HeaderTable& headers) {
  std::uint64_t h = 0x6865616465727321ULL;
  for (const auto& f : headers) {
    if (f.name.starts_with(':')) continue;
    for (const std::string* s : {&f.name, &f.value}) {
      h = mix_all(h, s->size());
      for (const char c : *s) h = mix_all(h, static_cast<std::uint8_t>(c));
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

HeaderTable Workload::response_headers(std::uint64_t id, const ResponsePlan& plan,
                                       const HeaderTable& request_headers) const {
  HeaderTable h;
  h.reserve(4);  // the most fields pushed below
  h.push_back({"content-type", "application/octet-stream"});
  if (plan.kind == ResponseKind::Shared) {
    h.push_back({"x-emitlab-shared", std::to_string(plan.body_size)});
    return h;  // one immutable object answers every request: nothing per request in it
  }
  h.push_back({"x-emitlab-request", std::to_string(id)});
  if (plan.kind == ResponseKind::Head) {
    h.push_back({"content-length", std::to_string(plan.declared_size)});
  }
  if (echo_digest()) h.push_back({"x-emitlab-request-digest", header_digest(request_headers)});
  return h;
}

ResponseObject::Spec Workload::response_spec(std::uint64_t id, const ResponsePlan& plan,
                                             const HeaderTable& request_headers) const {
  ResponseObject::Spec spec;
  spec.headers = response_headers(id, plan, request_headers);
  spec.body_size = plan.kind == ResponseKind::Buffered ? plan.body_size : 0;
  if (plan.trailers) spec.trailers = {{"x-emitlab-trailer", std::to_string(id)}};
  return spec;
}

ResponseObject::Spec Workload::shared_spec() const {
  ResponsePlan plan;
  plan.kind = ResponseKind::Shared;
  plan.body_size = shared_body_size();
  ResponseObject::Spec spec;
  spec.headers = response_headers(0, plan, {});
  spec.body_size = plan.body_size;
  return spec;
}

void Workload::fill(std::uint64_t id, const ResponsePlan& plan, std::uint64_t pos,
                    std::span<std::uint8_t> out) const {
  fill_body(scenario_->seed, plan.kind == ResponseKind::Shared ? kSharedBodyId : id, pos, out);
}

ExpectedResponse Workload::expected(std::uint64_t id) const {
  const ResponsePlan plan = response(id);
  // The request's fields matter only to the digest the response then echoes.
  HeaderTable sent;
  if (echo_digest()) {
    sent.push_back({"user-agent", "emitlab-peer"});
    for (auto& h : request(id).headers) sent.push_back(std::move(h));
  }
  ExpectedResponse e;
  ResponseObject::Spec spec = response_spec(id, plan, sent);
  e.headers = std::move(spec.headers);
  e.trailers = std::move(spec.trailers);
  e.body.resize(plan.body_size);
  fill(id, plan, 0, e.body);
  return e;
}

std::optional<std::uint64_t> Workload::request_id_from_path(const HeaderTable& request) {
  for (const auto& h : request) {
    if (h.name != ":path" || h.value.rfind("/r/", 0) != 0) continue;
    std::uint64_t id = 0;
    const char* begin = h.value.data() + 3;
    const char* end = h.value.data() + h.value.size();
    auto [ptr, ec] = std::from_chars(begin, end, id);
    if (ec == std::errc() && ptr == end && ptr != begin) return id;
  }
  return std::nullopt;
}

ExpectedResponse expected_response(std::uint64_t seed, std::uint64_t request_id,
                                   std::size_t body_size) {
  ExpectedResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/octet-stream"},
               {"x-emitlab-request", std::to_string(request_id)}};
  r.body = make_body(seed, request_id, body_size);
  return r;
}

}  // namespace emitlab::sim
