// RAII owners for the OpenSSL handles emitlab creates. Every handle has exactly one owner;
// borrowed handles are passed as raw pointers and never freed by the borrower.
#pragma once

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>

#include <memory>

namespace emitlab {

struct SslCtxFree {
  void operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const noexcept { SSL_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct LibCtxFree {
  void operator()(OSSL_LIB_CTX* p) const noexcept { OSSL_LIB_CTX_free(p); }
};
struct ProviderUnload {
  void operator()(OSSL_PROVIDER* p) const noexcept { OSSL_PROVIDER_unload(p); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using LibCtxPtr = std::unique_ptr<OSSL_LIB_CTX, LibCtxFree>;
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, ProviderUnload>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

}  // namespace emitlab
