#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fleetd/app/private_file.hpp"

namespace fs = std::filesystem;

namespace {

std::string contents_of(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned lstat_mode(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("private files are 0600 from the start and never follow a planted link", "[fleetd][private-file]") {
  const fs::path dir = fs::temp_directory_path() / ("fleetd_private_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path victim = dir / "victim";
  std::ofstream(victim) << "keep me";
  const mode_t old_umask = ::umask(0);  // the most permissive umask: the mode must not depend on it

  SECTION("a new file") {
    REQUIRE(fleet::write_private_file(dir / "admin-token", "secret\n").ok());
    CHECK(contents_of(dir / "admin-token") == "secret\n");
    CHECK(lstat_mode(dir / "admin-token") == 0600);
    CHECK_FALSE(fs::exists(dir / "admin-token.tmp"));
  }
  SECTION("a link planted at the file is replaced, not written through") {
    fs::create_symlink(victim, dir / "admin-token");
    REQUIRE(fleet::write_private_file(dir / "admin-token", "secret\n").ok());
    CHECK_FALSE(fs::is_symlink(dir / "admin-token"));
    CHECK(contents_of(dir / "admin-token") == "secret\n");
    CHECK(lstat_mode(dir / "admin-token") == 0600);
  }
  SECTION("a link planted at the temporary name is removed, not written through") {
    fs::create_symlink(victim, dir / "admin-token.tmp");
    REQUIRE(fleet::write_private_file(dir / "admin-token", "secret\n").ok());
    CHECK(contents_of(dir / "admin-token") == "secret\n");
  }
  SECTION("an existing file readable by others is replaced by a private one") {
    std::ofstream(dir / "port") << "old";
    fs::permissions(dir / "port", fs::perms::all);
    REQUIRE(fleet::write_private_file(dir / "port", "127.0.0.1:8080\n").ok());
    CHECK(lstat_mode(dir / "port") == 0600);
  }
  SECTION("an unwritable place is an error, not a crash") {
    auto st = fleet::write_private_file(dir / "no-such-dir" / "x", "y");
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message, Catch::Contains("cannot write"));
  }
  ::umask(old_umask);
  CHECK(contents_of(victim) == "keep me");
  fs::remove_all(dir);
}
