// --listen ADDR:PORT: an IPv4 address and a port (0 asks the kernel for a free one).
#pragma once

#include <cstdint>
#include <string>

namespace emitlab::net {

struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
};

// Throws NetError naming the text and the expected form.
ListenAddress parse_listen_address(const std::string& text);

}  // namespace emitlab::net
