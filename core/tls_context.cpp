#include "core/tls_context.h"

#include <string_view>

namespace emitlab {
namespace {

// `out` must point into the client's list, which outlives the callback.
int select_h2(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
              const unsigned char* in, unsigned int inlen, void* /*arg*/) noexcept {
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (len > inlen - i - 1) break;  // malformed list
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == "h2") {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

void select_h2_alpn(SSL_CTX* ctx) {
  SSL_CTX_set_alpn_select_cb(ctx, select_h2, nullptr);
}

void apply_shared_server_settings(SSL_CTX* ctx) {
  SSL_CTX_set_options(ctx, kServerContextOptions);
  select_h2_alpn(ctx);
}

}  // namespace emitlab
