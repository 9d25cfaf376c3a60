#include "cli/serve_command.h"

#include <iostream>

#include "cli/options.h"
#include "core/byte_size.h"
#include "core/strategy.h"
#include "net/body_handler.h"
#include "net/server.h"

namespace emitlab::cli {
namespace {

std::size_t size_flag(const char* flag, const std::string& text, std::size_t lo, std::size_t hi) {
  const auto v = parse_byte_size(text);
  if (!v || *v < lo || *v > hi) {
    throw UsageError{std::string("bad ") + flag + " '" + text +
                     "': expected bytes or N with K/KiB/M/MiB, " + byte_size_text(lo) + ".." +
                     byte_size_text(hi)};
  }
  return *v;
}

net::ServeConfig make_config(const ServeFlags& f) {
  net::ServeConfig c;
  const auto parsed = parse_strategy(f.strategy);
  if (!parsed.spec) throw UsageError{parsed.error};
  c.connection.strategy = *parsed.spec;
  c.strategy_text = f.strategy;
  if (f.cmd->count("--cipher-ring") > 0) c.connection.rings.cipher_out_records = f.cipher_ring;
  if (!f.plaintext_ring.empty()) {
    c.connection.rings.plaintext_ring =
        size_flag("--plaintext-ring", f.plaintext_ring, 4096, std::size_t{16} << 20);
  }
  c.body = size_flag("--body", f.body, 0, net::kMaxBodyBytes);
  if (f.cert.empty() != f.key.empty()) {
    throw UsageError{
        "bad --cert/--key: give both (PEM files) or neither (a self-signed P-256 "
        "certificate is made at start)"};
  }
  c.tls.cert_file = f.cert;
  c.tls.key_file = f.key;
  if (!f.tls13_suites.empty()) c.tls.tls13_suites = f.tls13_suites;
  c.write_timeout_s = f.write_timeout;
  c.max_connections = f.max_connections;
  c.stats_json = f.stats_json;
  try {
    c.listen = net::parse_listen_address(f.listen);
  } catch (const net::NetError& e) {
    throw UsageError{e.what()};
  }
  return c;
}

}  // namespace

void add_serve_command(CLI::App& app, ServeFlags& f) {
  auto* cmd = app.add_subcommand("serve", "serve HTTP/2 over TLS on a real socket (libuv)");
  f.cmd = cmd;
  cmd->add_option("--strategy", f.strategy, "strategy spec, e.g. drain or gather+A1+A3");
  cmd->add_option("--listen", f.listen, "IPV4:PORT to listen on; port 0 picks a free one");
  cmd->add_option("--body", f.body, "body size of GET /: bytes, or N with K/KiB/M/MiB");
  cmd->add_option("--cert", f.cert, "PEM certificate chain (with --key)");
  cmd->add_option("--key", f.key, "PEM private key (with --cert)");
  cmd->add_option("--cipher-ring", f.cipher_ring,
                  "cipher-out ring of K x 17408 bytes, K = 1..16 (default 64 KiB)")
      ->check(CLI::Range(1U, 16U));
  cmd->add_option("--plaintext-ring", f.plaintext_ring, "plaintext ring size (default 32 KiB)");
  cmd->add_option("--tls13-suites", f.tls13_suites,
                  "TLS 1.3 suites, colon-separated (default upstream's three)");
  cmd->add_option("--write-timeout", f.write_timeout,
                  "seconds a write may wait before its connection is reclaimed; also the "
                  "shutdown deadline")
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--max-connections", f.max_connections,
                  "connections open at once; more are closed at accept")
      ->check(CLI::Range(1U, 1000000U));
  cmd->add_option("--stats-json", f.stats_json,
                  "write the statistics as JSON here on exit and on SIGUSR1");
}

int cmd_serve(const ServeFlags& flags) {
  net::ServeConfig config = make_config(flags);
  try {
    net::Server server(std::move(config), std::cout);
    return server.run();
  } catch (const net::NetError& e) {
    throw UsageError{e.what()};
  }
}

}  // namespace emitlab::cli
