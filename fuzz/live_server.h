// The fuzz harnesses' fixture: a real ServerConnection (core/) with a deterministic TLS
// handshake against a plain OpenSSL client, both over memory BIOs, no world around it. Its
// parameters (strategy, completions, ring sizes, body size) come from the first bytes of the
// fuzz input, so the fuzzer explores them together with what the client sends after.
//
// After handshake(), a harness feeds the server either plaintext the client encrypts
// (send_plaintext: HTTP/2 bytes through real TLS records) or raw records (send_records).
// Every request gets a response at once. Any broken core invariant, a response the server
// refused while alive, or a write-in-flight rule broken by the server aborts the process: a
// finding for libFuzzer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/ossl_handles.h"
#include "core/server_connection.h"
#include "sim/deterministic_tls.h"
#include "sim/sim_link.h"

namespace emitlab::fuzz {

// Reads the fixture's parameters from the front of the input; what is left is the payload.
struct LiveParams {
  std::string strategy = "drain";
  bool sync_completions = false;
  std::size_t cipher_out_records = 0;                // 0..16 (0: the 64 KiB default)
  std::size_t plaintext_ring = 32768;                // 4 KiB..64 KiB
  std::size_t body_size = 3;                         // every response's body, 0..70000
  static constexpr std::size_t kBytes = 6;           // consumed from the input's front
  static constexpr std::size_t kStrategyCount = 12;  // the first byte picks one, modulo this
  static LiveParams draw(std::span<const std::uint8_t>& input);
};

// Its transport is the simulated link (SimLink), completed by settle() or, with synchronous
// completions, from inside the submission.
class LiveServer final : public RequestHandler, private sim::SimLink::SubmitListener {
 public:
  explicit LiveServer(const LiveParams& params);
  ~LiveServer() override;
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;

  // The deterministic handshake (seed 1); false if it did not complete (never expected).
  bool handshake();
  void send_plaintext(std::span<const std::uint8_t> bytes);  // encrypted by the client
  void send_records(std::span<const std::uint8_t> bytes);    // straight to the server
  // Moves bytes both ways until nothing moves; the client reads and drops what it gets.
  void settle();
  // Aborts on a broken invariant (core/invariants.h) or a refused response.
  void check() const;
  // What the client has sent so far as ciphertext after the handshake (for seed recording).
  const std::vector<std::uint8_t>& client_records() const { return client_records_; }
  void record_client(bool on) { recording_ = on; }
  std::size_t responses() const { return responses_; }  // submitted and accepted

  void on_request(ServerConnection& connection, ServerStream& stream) override;

 private:
  void on_submit(std::span<const std::uint8_t> ciphertext) override;
  bool move_client_output();
  bool complete_write();
  void client_read();

  LiveParams params_;
  sim::DeterministicTls& tls_;  // one per process, rewound per input (building one is slow)
  SslPtr client_;
  BioPtr client_net_;
  sim::SimLink link_;  // before server_, which holds it as its Transport
  std::unique_ptr<ServerConnection> server_;
  bool in_submit_ = false;
  bool refused_ = false;
  std::size_t responses_ = 0;
  bool recording_ = false;
  std::vector<std::uint8_t> client_records_;
};

}  // namespace emitlab::fuzz
