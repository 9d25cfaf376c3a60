// Strategy specs: the grammar, canonical names and the promises between strategies.
#define BOOST_TEST_MODULE strategy
#include <boost/test/unit_test.hpp>

#include "core/byte_size.h"
#include "core/echo.h"
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

// Numbers are decimal and whole or refused: no sign, no space, no octal or hex reading of a
// leading zero, nothing above 2^64-1 (--requests 010 was once 8 and 0x10 was 16).
BOOST_AUTO_TEST_CASE(decimal_numbers_are_digits_only) {
  BOOST_TEST(*emitlab::parse_decimal("0") == 0U);
  BOOST_TEST(*emitlab::parse_decimal("5") == 5U);
  BOOST_TEST(*emitlab::parse_decimal("18446744073709551615") == 0xFFFFFFFFFFFFFFFFULL);
  for (const char* bad : {"", "-1", "+5", " 5", "5 ", "010", "0x10", "00", "1e3", "5.0",
                          "18446744073709551616", "99999999999999999999"}) {
    BOOST_TEST(!emitlab::parse_decimal(bad).has_value(), bad);
  }
  for (const char* bad : {"010", "08K", "+1K", " 1K", "1K ", "0x10"}) {
    BOOST_TEST(!emitlab::parse_byte_size(bad).has_value(), bad);
  }
}

// Parameters on drain, @threshold without hybrid and repeated parts are refused whatever their
// value (those equal to the default were once accepted).
BOOST_AUTO_TEST_CASE(grammar_refuses_misplaced_and_repeated_parts) {
  const std::pair<const char*, const char*> cases[] = {
      {"drain@cap=16K", "drain takes no"},
      {"drain@threshold=2K", "drain takes no"},
      {"drain+A1", "drain takes no"},
      {"gather@threshold=2K", "hybrid only"},
      {"gather+A1+A2+A3@threshold=4K", "hybrid only"},
      {"gather@cap=16K@cap=32K", "repeated"},
      {"hybrid@threshold=2K@threshold=2K", "repeated"},
      {"gather+A1+A1", "repeated"},
      {"gather@cap=016K", "bad parameter"},
      {"gather+", "unknown"},
      {"gather@", "unknown"},
  };
  for (const auto& [text, why] : cases) {
    const auto parsed = emitlab::parse_strategy(text);
    BOOST_TEST_CONTEXT(text << " -> " << parsed.error) {
      BOOST_TEST(!parsed.spec.has_value());
      BOOST_TEST(parsed.error.find(why) != std::string::npos);
    }
  }
  for (const char* good :
       {"gather@cap=16K", "hybrid@threshold=2K", "hybrid+A1@cap=32K@threshold=4K"}) {
    BOOST_TEST(emitlab::parse_strategy(good).spec.has_value(), good);
  }
}

BOOST_AUTO_TEST_CASE(echoed_text_is_escaped_and_cut) {
  BOOST_TEST(emitlab::echo("a\nb\x1b[31m") == "'a\\nb\\x1b[31m'");
  const std::string huge(1000000, 'x');
  const std::string e = emitlab::echo(huge);
  BOOST_TEST(e.size() < 120U);
  BOOST_TEST(e.find("1000000 bytes") != std::string::npos);
  BOOST_TEST(emitlab::parse_strategy("gather\n\x1b").error.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(same_wire_only_between_strategies_that_differ_in_a1_a2_a3) {
  auto spec = [](const char* text) { return *parse_strategy(text).spec; };
  auto same_wire = [&](const char* a, const char* b) {
    return emitlab::promise_between(spec(a), spec(b), false).same_wire;
  };
  BOOST_TEST(same_wire("gather", "gather+A1+A2+A3"));
  BOOST_TEST(same_wire("hybrid+A2", "hybrid+A3"));
  BOOST_TEST(same_wire("gather@cap=64K", "gather+A1@cap=64K"));
  BOOST_TEST(!same_wire("gather", "gather@cap=64K"));  // the cap changes the SSL_write calls
  BOOST_TEST(!same_wire("hybrid", "hybrid@threshold=1K"));
  BOOST_TEST(!same_wire("gather", "hybrid"));
}

BOOST_AUTO_TEST_CASE(caps_from_4k_to_256k_inclusive) {
  for (const char* ok :
       {"gather@cap=4K", "gather@cap=256K", "gather@cap=4096", "gather@cap=262144"}) {
    BOOST_TEST(parse_strategy(ok).spec.has_value(), ok);
  }
  for (const char* bad : {"gather@cap=4095", "gather@cap=262145", "gather@cap=257K"}) {
    BOOST_TEST(!parse_strategy(bad).spec.has_value(), bad);
  }
}
