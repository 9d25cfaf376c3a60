// main() of every props binary: Boost.Test's runner, or `BINARY replay TOKEN`.
#define BOOST_TEST_NO_MAIN
#define BOOST_TEST_ALTERNATIVE_INIT_API
#include <boost/test/unit_test.hpp>

#include "props/runner.h"

int main(int argc, char** argv) {
  return emitlab::props::props_main(argc, argv);
}
