// The Transport port: the emitter submits one contiguous ciphertext span at a time and is told
// later, through TlsConnection::on_write_complete, how many bytes went out. The world decides
// when (and whether synchronously, from inside submit) that completion comes.
#pragma once

#include <cstdint>
#include <span>

namespace emitlab {

class Transport {
 public:
  virtual ~Transport() = default;
  // The span stays valid and untouched until its completion; at most one is in flight.
  virtual void submit(std::span<const std::uint8_t> ciphertext) = 0;
};

}  // namespace emitlab
