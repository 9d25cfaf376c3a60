// Empties this thread's OpenSSL error queue before an SSL_* call, so that SSL_get_error after it
// reads that call's errors only.
#pragma once

#include <openssl/err.h>

namespace emitlab {

// ERR_clear_error resets all of the queue's slots even when it is empty, which it is before
// nearly every call: about 800 instructions in OpenSSL 3.0, twice per response in the world.
// ERR_peek_error finds an empty queue in a fraction of that. Entries it skips (already cleared
// ones) are skipped by SSL_get_error and ERR_get_error alike, so what follows reads the same.
inline void clear_ssl_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace emitlab
