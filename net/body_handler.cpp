#include "net/body_handler.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/body_pattern.h"

namespace emitlab::net {
namespace {

std::string_view header(const HeaderTable& table, std::string_view name) {
  for (const auto& f : table) {
    if (f.name == name) return f.value;
  }
  return {};
}

// The body size a path asks for, or nothing for an unknown path.
std::optional<std::size_t> body_size_of(std::string_view path, std::size_t default_body) {
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (path == "/") return default_body;
  constexpr std::string_view kBytes = "/bytes/";
  if (!path.starts_with(kBytes)) return std::nullopt;
  const std::string_view digits = path.substr(kBytes.size());
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n > kMaxBodyBytes) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

BodyHandler::BodyHandler(std::size_t default_body, Allocator& allocator)
    : default_body_(default_body),
      allocator_(&allocator),
      pattern_(make_body(kServeBodySeed, kServeBodyRequest,
                         std::max(default_body, kPreparedPatternBytes))) {}

int BodyHandler::respond(ServerConnection& connection, ServerStream& stream) {
  ++requests_;
  ResponseObject::Spec spec;
  std::optional<std::size_t> size;
  if (header(stream.request, ":method") != "GET") {
    spec.status = 405;
  } else if (size = body_size_of(header(stream.request, ":path"), default_body_); !size) {
    spec.status = 404;
    ++not_found_;
  } else {
    spec.body_size = *size;
  }
  spec.headers = {{"content-type", "application/octet-stream"},
                  {"content-length", std::to_string(spec.body_size)}};
  const std::vector<std::uint8_t>& pattern = pattern_;
  auto fill = [&pattern](std::span<std::uint8_t> out) {
    const std::size_t copied = std::min(out.size(), pattern.size());
    std::memcpy(out.data(), pattern.data(), copied);
    if (copied < out.size()) {
      fill_body(kServeBodySeed, kServeBodyRequest, copied, out.subspan(copied));
    }
  };
  const int status = spec.status;
  try {
    connection.submit_response(
        stream.id, ResponseRef(ResponseObject::create(*allocator_, std::move(spec), fill)));
  } catch (const std::bad_alloc&) {
    connection.reset_stream(stream.id, NGHTTP2_INTERNAL_ERROR);
  }
  return status;
}

}  // namespace emitlab::net
