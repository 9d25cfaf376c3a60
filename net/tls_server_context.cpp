#include "net/tls_server_context.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/tls_context.h"

namespace emitlab::net {
namespace {

std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

void require(bool ok, const char* what) {
  if (!ok) throw NetError(std::string("TLS setup: ") + what + " failed: " + openssl_reason());
}

// A certificate for this run only, valid for localhost and 127.0.0.1: clients are told not to
// verify it (curl -k; h2load and nghttp do not verify).
void use_self_signed(SSL_CTX* ctx) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  require(key != nullptr, "EVP_EC_gen(P-256)");
  X509Ptr cert(X509_new());
  require(cert != nullptr, "X509_new");
  X509* c = cert.get();
  require(X509_set_version(c, 2) == 1, "X509_set_version");
  require(ASN1_INTEGER_set(X509_get_serialNumber(c), 1) == 1, "serial number");
  require(X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr, "notBefore");
  require(X509_gmtime_adj(X509_getm_notAfter(c), 30L * 24 * 3600) != nullptr, "notAfter");
  X509_NAME* name = X509_get_subject_name(c);
  require(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                     0) == 1,
          "subject name");
  require(X509_set_issuer_name(c, name) == 1, "issuer name");
  require(X509_set_pubkey(c, key.get()) == 1, "X509_set_pubkey");
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, c, c, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  require(san != nullptr, "subjectAltName");
  const int added = X509_add_ext(c, san, -1);
  X509_EXTENSION_free(san);
  require(added == 1, "X509_add_ext");
  require(X509_sign(c, key.get(), EVP_sha256()) > 0, "X509_sign");
  require(SSL_CTX_use_certificate(ctx, c) == 1, "SSL_CTX_use_certificate");
  require(SSL_CTX_use_PrivateKey(ctx, key.get()) == 1, "SSL_CTX_use_PrivateKey");
}

void use_files(SSL_CTX* ctx, const TlsServerConfig& config) {
  if (SSL_CTX_use_certificate_chain_file(ctx, config.cert_file.c_str()) != 1) {
    throw NetError("bad --cert '" + config.cert_file + "': expected a readable PEM certificate (" +
                   openssl_reason() + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw NetError("bad --key '" + config.key_file + "': expected a readable PEM private key (" +
                   openssl_reason() + ")");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw NetError("bad --key '" + config.key_file + "': it does not match --cert '" +
                   config.cert_file + "'");
  }
}

}  // namespace

SslCtxPtr make_server_context(const TlsServerConfig& config) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  require(ctx != nullptr, "SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  require(SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1, "set_min_proto_version");
  require(SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) == 1, "set_max_proto_version");
  if (SSL_CTX_set_ciphersuites(c, config.tls13_suites.c_str()) != 1) {
    ERR_clear_error();
    throw NetError("bad --tls13-suites '" + config.tls13_suites +
                   "': expected a colon-separated list of TLS 1.3 suites, e.g. " +
                   kUpstreamTls13Suites);
  }
  require(SSL_CTX_set_cipher_list(c, kUpstreamTls12Ciphers) == 1, "SSL_CTX_set_cipher_list");
  SSL_CTX_set_security_level(c, 2);
  apply_shared_server_settings(c);
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (config.cert_file.empty() && config.key_file.empty()) {
    use_self_signed(c);
  } else {
    use_files(c, config);
  }
  return ctx;
}

}  // namespace emitlab::net
