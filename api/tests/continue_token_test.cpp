#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/continue_token.hpp"

using namespace fleet;
using namespace fleet::api;

namespace {
// Test-side base64url (unpadded) so that hand-made payloads need not go through the code under test.
std::string b64url(const std::string& in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out += a[(val >> bits) & 0x3F];
      bits -= 6;
    }
  }
  if (bits > -6) out += a[((val << 8) >> (bits + 8)) & 0x3F];
  return out;
}
}  // namespace

TEST_CASE("continue tokens round-trip", "[api][continue]") {
  for (const std::string& name :
       std::vector<std::string>{"a", "aks-westeurope-1", "zz", std::string(63, 'q'), std::string("caf\xc3\xa9"),
                                std::string("with \"quotes\" and \\"), std::string(300, 'x')}) {
    std::string token = encode_continue(name);
    CAPTURE(name, token);
    CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    auto back = decode_continue(token);
    REQUIRE(back);
    CHECK(*back == name);
  }
  CHECK(encode_continue("a") == b64url(R"({"after":"a","v":1})"));
}

TEST_CASE("continue tokens reject garbage", "[api][continue]") {
  auto c = GENERATE(as<std::string>{},
                    "",                                                             // empty
                    "!!!!",                                                         // outside the alphabet
                    "abc=",                                                         // padding
                    "a",                                                            // impossible length
                    "eyJ2IjoxLCJhZnRlciI6ImEifQ==",                                 // standard base64 with padding
                    "eyJ2IjoxLCJhZnRlciI6ImEifR",                                   // non-zero leftover bits
                    b64url("not json"),                                             //
                    b64url("[1,2]"),                                                // not an object
                    b64url(R"({"v":2,"after":"a"})"),                               // wrong version
                    b64url(R"({"v":"1","after":"a"})"),                             // version of the wrong type
                    b64url(R"({"after":"a"})"),                                     // no version
                    b64url(R"({"v":1})"),                                           // no name
                    b64url(R"({"v":1,"after":""})"),                                // empty name
                    b64url(R"({"v":1,"after":7})"),                                 // name of the wrong type
                    b64url(R"({"v":1,"after":"a","x":1})"),                         // extra member
                    b64url(R"({"v":1,"after":")" + std::string(800, 'a') + "\"}"),  // over 1 KiB
                    std::string(2000, 'A'));                                        // oversize before decoding
  CAPTURE(c);
  auto r = decode_continue(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().type == "invalid-query");
  CHECK(r.error().field == "continue");
}
