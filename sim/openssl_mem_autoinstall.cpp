// Link this object (CMake: emitlab_openssl_mem_autoinstall) into an executable whose main is
// not yours (Boost.Test) to install the OpenSSL memory hooks before main, ahead of every other
// static initializer of the executable (init_priority 101 is the earliest user priority).
// Shared libraries initialise before the executable, and none of emitlab's dependencies
// allocates through OpenSSL while loading; if one ever does, the hooks are refused, this says
// so on stderr, and counting reports OpenSSL as not counted.
#include <cstdio>
#include <string>

#include "sim/openssl_mem.h"

namespace {

struct InstallOpenSslMemHooks {
  InstallOpenSslMemHooks() {
    const auto state = emitlab::sim::install_openssl_mem_hooks();
    if (state != emitlab::sim::OpenSslHooks::Installed) {
      std::fprintf(stderr,
                   "emitlab: OpenSSL memory hooks %s (OpenSSL allocated before main): OpenSSL "
                   "allocations will not be counted\n",
                   std::string(emitlab::sim::to_string(state)).c_str());
    }
  }
};

[[gnu::init_priority(101)]] const InstallOpenSslMemHooks install_first;

}  // namespace
