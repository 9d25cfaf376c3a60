// `emitlab serve`: the core emitter over real sockets (net/). Its flags and its run live here so
// that main.cpp only registers the command and dispatches to it.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace emitlab::cli {

struct ServeFlags {
  std::string strategy = "drain";
  std::string listen = "127.0.0.1:8443";
  std::string body = "3";
  std::string cert;
  std::string key;
  std::uint32_t cipher_ring = 0;
  std::string plaintext_ring;
  std::string tls13_suites;
  double write_timeout = 10.0;
  std::uint32_t max_connections = 1024;
  std::string stats_json;
  CLI::App* cmd = nullptr;
};

// Registers the subcommand and its flags on `app`.
void add_serve_command(CLI::App& app, ServeFlags& flags);
// Serves until SIGINT/SIGTERM. Throws UsageError (exit 2) for bad input; returns the exit code.
int cmd_serve(const ServeFlags& flags);

}  // namespace emitlab::cli
