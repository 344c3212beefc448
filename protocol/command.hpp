#pragma once
// A command as fleetd queues it and an agent runs it: an id (the idempotency key on both sides) and a typed
// payload whose alternative is the kind. The wire form is {"id", "kind", "payload"}.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "protocol/command_kind.hpp"
#include "protocol/command_payloads.hpp"

namespace fleet::protocol {

struct Command {
  std::string id;
  CommandPayload payload;
  CommandKind kind() const { return kind_of(payload); }
  bool operator==(const Command&) const = default;
};

// 1-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit (what
// fleetd accepts and generates: uuids qualify). kInvalid `invalid-field` on "id" otherwise.
Status validate_command_id(std::string_view id);

// `kind` by name: an unknown one is kInvalid `invalid-field` on "kind", listing the kinds.
Result<CommandKind> command_kind_from(std::string_view kind);
// The id, the kind and the payload checked (payload errors name "payload.<member>").
Result<Command> parse_command(std::string id, std::string_view kind, const nlohmann::json& payload);

}  // namespace fleet::protocol
