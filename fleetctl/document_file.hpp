#pragma once
// A document a command reads with -f: a file or, for "-", stdin; JSON or YAML (JSON is tried first: it is what
// -o json writes). The commands that read files can share this one reader.
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

// The document, which must be an object; a kInvalid Error (a usage error, exit 2) naming the file otherwise.
Result<nlohmann::json> read_document_file(Session& session, const std::string& file);

}  // namespace fleet::ctl
