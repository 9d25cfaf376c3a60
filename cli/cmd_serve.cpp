// emitlab serve: the core emitter over real sockets (net/), until SIGINT or SIGTERM. The ring
// and strategy flags write the same scenario fields as run's, so they share its bounds.
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/byte_size.h"
#include "net/body_handler.h"
#include "net/server.h"

namespace emitlab::cli {
namespace {

constexpr std::uint64_t kMaxConnectionsFlag = 1000000;
constexpr std::uint64_t kMaxWriteTimeoutMillis = 3600 * 1000;

net::ServeConfig make_config(const Command& c, const Args& args) {
  // Strategy and rings: read through the scenario table, so serve refuses what run refuses.
  const sim::Scenario s = make_scenario(c, args);
  net::ServeConfig config;
  config.connection.strategy = s.strategy;
  config.strategy_text = args.value("--strategy", "drain");
  config.connection.rings.cipher_out_records = s.rings.cipher_out_records;
  config.connection.rings.plaintext_ring = s.rings.plaintext;
  config.body = number_value(args, "--body", 3);
  if (args.has("--cert") != args.has("--key")) {
    throw UsageError{
        "bad --cert/--key: give both (PEM files) or neither (a self-signed P-256 "
        "certificate is made at start)"};
  }
  config.tls.cert_file = args.value("--cert");
  config.tls.key_file = args.value("--key");
  if (args.has("--tls13-suites")) config.tls.tls13_suites = args.value("--tls13-suites");
  config.write_timeout_s = seconds_value(args, "--write-timeout", 10.0);
  config.max_connections =
      static_cast<std::uint32_t>(number_value(args, "--max-connections", 1024));
  config.stats_json = args.value("--stats-json");
  try {
    config.listen = net::parse_listen_address(args.value("--listen", "127.0.0.1:8443"));
  } catch (const net::NetError& e) {
    throw UsageError{e.what()};
  }
  return config;
}

int serve(const Command& c, const Args& args) {
  net::ServeConfig config = make_config(c, args);
  try {
    net::Server server(std::move(config), std::cout);
    return server.run();
  } catch (const net::NetError& e) {
    throw UsageError{e.what()};
  }
}

}  // namespace

Command serve_command() {
  Command c;
  c.name = "serve";
  c.summary = "serve HTTP/2 over TLS on a real socket (libuv) until SIGINT or SIGTERM";
  c.example = "serve --listen 127.0.0.1:8443 --strategy gather+A1+A3 --body 64K";
  Flag listen = text_flag("--listen", "IPV4:PORT", "an IPv4 address and a port 0..65535",
                          "where to listen; port 0 picks a free one (printed on start)");
  listen.default_text = "127.0.0.1:8443";
  Flag cert = text_flag("--cert", "FILE", "a PEM file, with --key", "certificate chain");
  cert.default_text = "a self-signed P-256 certificate made at start";
  Flag suites = text_flag("--tls13-suites", "LIST", "TLS 1.3 suite names, colon-separated",
                          "the TLS 1.3 suites offered");
  suites.default_text = "upstream's three";
  c.flags = {
      strategy_flag(),
      listen,
      number_flag("--body", "SIZE", Flag::Kind::Size, 0, net::kMaxBodyBytes, "3",
                  "body size of GET /"),
      cert,
      text_flag("--key", "FILE", "a PEM file, with --cert", "private key"),
      field_flag("--cipher-ring", "K", "rings.cipher_out_records",
                 "cipher-out ring of K x 17408 bytes (0: 64 KiB)"),
      field_flag("--plaintext-ring", "SIZE", "rings.plaintext", "plaintext ring size"),
      suites,
      number_flag("--write-timeout", "S", Flag::Kind::Seconds, 1, kMaxWriteTimeoutMillis, "10",
                  "seconds a write may wait before its connection is reclaimed; also the "
                  "shutdown deadline"),
      number_flag("--max-connections", "N", Flag::Kind::Number, 1, kMaxConnectionsFlag, "1024",
                  "connections open at once; more are closed at accept"),
      text_flag("--stats-json", "FILE", "a file path",
                "write the statistics as JSON here on exit and on SIGUSR1"),
  };
  c.run = serve;
  return c;
}

}  // namespace emitlab::cli
