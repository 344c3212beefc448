#pragma once
// In the embedded mode the data directory holds a first admin token and a fleetctl config pointing at this fleetd,
// so that a fresh install is usable without any bootstrap ceremony. Both files are mode 0600.
#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "fleetd/app/private_file.hpp"  // write_private_file, which these files are written with

namespace fleet {

// <data_dir>/admin-token (created once, in the database at `database_url`, then reused) and
// <data_dir>/fleetctl.json for `server_url` with `ca_file`.
Status write_local_access(const std::string& database_url, const std::filesystem::path& data_dir,
                          const std::string& server_url, const std::string& ca_file);

}  // namespace fleet
