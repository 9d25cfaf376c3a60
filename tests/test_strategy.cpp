// Strategy specs: the grammar, canonical names and the promises between strategies.
#define BOOST_TEST_MODULE strategy
#include <boost/test/unit_test.hpp>

#include "core/byte_size.h"
#include "core/strategy.h"

using emitlab::parse_strategy;
using emitlab::StrategyBase;

BOOST_AUTO_TEST_CASE(bases_parse_to_their_canonical_names) {
  for (const char* name : {"drain", "gather"}) {
    const auto p = parse_strategy(name);
    BOOST_REQUIRE(p.spec.has_value());
    BOOST_TEST(p.spec->name() == name);
  }
  BOOST_TEST((parse_strategy("gather").spec->base == StrategyBase::Gather));
}

BOOST_AUTO_TEST_CASE(bad_specs_name_the_bad_part_and_the_grammar) {
  const auto unknown = parse_strategy("gathr");
  BOOST_TEST(!unknown.spec.has_value());
  BOOST_TEST(unknown.error.find("'gathr'") != std::string::npos);
  BOOST_TEST(unknown.error.find("BASE[+A1]") != std::string::npos);
  const auto option = parse_strategy("gather+A7");
  BOOST_TEST(option.error.find("'A7'") != std::string::npos);
  const auto param = parse_strategy("gather@cap=lots");
  BOOST_TEST(param.error.find("'cap=lots'") != std::string::npos);
  BOOST_TEST(!parse_strategy("drain+A1").spec.has_value());
  BOOST_TEST(!parse_strategy("").spec.has_value());
}

BOOST_AUTO_TEST_CASE(promises_between_drain_and_gather) {
  const auto drain = *parse_strategy("drain").spec;
  const auto gather = *parse_strategy("gather").spec;
  const auto lockstep = emitlab::promise_between(drain, gather, true);
  BOOST_TEST(lockstep.same_app_stream);
  BOOST_TEST(!lockstep.same_wire);
  const auto timing = emitlab::promise_between(drain, gather, false);
  BOOST_TEST(!timing.same_app_stream);
  BOOST_TEST(emitlab::promise_between(gather, gather, false).same_wire);
}

BOOST_AUTO_TEST_CASE(byte_sizes_accept_suffixes_and_reject_junk) {
  BOOST_TEST(*emitlab::parse_byte_size("0") == 0U);
  BOOST_TEST(*emitlab::parse_byte_size("16K") == 16384U);
  BOOST_TEST(*emitlab::parse_byte_size("16KiB") == 16384U);
  BOOST_TEST(*emitlab::parse_byte_size("1M") == 1048576U);
  BOOST_TEST(*emitlab::parse_byte_size("2MiB") == 2097152U);
  for (const char* bad : {"", "K", "12X", "-1", "1.5K", "99999999999999999999"}) {
    BOOST_TEST(!emitlab::parse_byte_size(bad).has_value(), bad);
  }
  BOOST_TEST(emitlab::byte_size_text(65536) == "64K");
  BOOST_TEST(emitlab::byte_size_text(1048576) == "1M");
  BOOST_TEST(emitlab::byte_size_text(100) == "100");
}
