#include "net/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

#include "net/tls_server_context.h"

namespace emitlab::net {

ListenAddress parse_listen_address(const std::string& text) {
  const auto bad = [&] {
    return NetError("bad --listen '" + text +
                    "': expected IPV4:PORT with PORT 0..65535, e.g. 127.0.0.1:8443");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw bad();
  ListenAddress a;
  a.host = text.substr(0, colon);
  in_addr probe{};
  if (inet_pton(AF_INET, a.host.c_str(), &probe) != 1) throw bad();
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port > 65535) throw bad();
  a.port = static_cast<std::uint16_t>(port);
  return a;
}

}  // namespace emitlab::net
