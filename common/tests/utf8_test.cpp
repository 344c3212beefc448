#include "common/utf8.hpp"

#include <catch2/catch.hpp>

namespace fleet {

TEST_CASE("utf8: well-formed text passes, every kind of malformed byte does not", "[common][utf8]") {
  for (std::string_view ok : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x9A\x80", "\xF4\x8F\xBF\xBF"}) {
    CAPTURE(ok);
    CHECK(is_valid_utf8(ok));
  }
  for (std::string_view bad : {"\xFF", "\x80", "caf\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                               "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\xC3\x28"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_utf8(bad));
  }
}

TEST_CASE("utf8: truncation ends between characters", "[common][utf8]") {
  const std::string e_acute = "\xC3\xA9";
  std::string many;
  for (int i = 0; i < 200; ++i) many += e_acute;  // 400 bytes
  const std::string cut = truncate_utf8(many, 253);
  CHECK(cut.size() == 252);
  CHECK(is_valid_utf8(cut));
  CHECK(truncate_utf8("abc", 10) == "abc");
  CHECK(truncate_utf8("abc", 2) == "ab");
  CHECK(truncate_utf8("ab\xFF"
                      "cd",
                      10) == "ab");  // stops at the first bad byte
  CHECK(truncate_utf8("\xF0\x9F\x9A\x80", 3).empty());
}

}  // namespace fleet
