#pragma once
// Files only fleetd's user may read: TLS keys and certificates, the embedded-mode admin token, the local fleetctl
// config, the port file (issue #10: these were written with the default umask, then chmod-ed, following links).
#include <filesystem>
#include <string>

#include "common/error.hpp"

namespace fleet {

// Writes `content` to `path` with mode 0600 from the first byte: a temporary file beside it made with
// O_CREAT|O_EXCL (which never follows a link; a stale one, or a link planted there, is removed first), synced,
// then renamed over `path` (a link at `path` is replaced, not followed).
Status write_private_file(const std::filesystem::path& path, const std::string& content);

}  // namespace fleet
