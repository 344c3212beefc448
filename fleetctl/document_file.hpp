#pragma once
// A document a command reads with -f: a file or, for "-", stdin; JSON or YAML (JSON is tried first: it is what
// -o json writes). The commands that read files can share this one reader.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

// A file is read whole into memory and parsed there, so it is bounded: far above what fleetd takes in one request
// (a workload is at most 256 KiB) times the few dozen objects a file usually holds.
inline constexpr std::size_t kMaxDocumentFileBytes = std::size_t{4} << 20;

// The document, which must be an object; a kInvalid Error (a usage error, exit 2) naming the file otherwise.
Result<nlohmann::json> read_document_file(Session& session, const std::string& file);

// Every document of the file, in order: YAML documents separated by "---" (empty ones are skipped), one JSON
// object, or the items of a JSON or YAML {"kind": "List", "items": [...]}. Each must be an object. kInvalid (usage)
// naming the file and the document's place (from 1) otherwise; kTooLarge beyond kMaxDocumentFileBytes.
Result<std::vector<nlohmann::json>> read_documents(Session& session, const std::string& file);

}  // namespace fleet::ctl
