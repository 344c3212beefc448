#include "protocol/command.hpp"

#include <utility>

#include "model/names.hpp"

namespace fleet::protocol {

Status validate_command_id(std::string_view id) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !id.empty() && id.size() <= 63 && alnum(id.front()) && alnum(id.back());
  for (char c : id) ok = ok && (alnum(c) || c == '.' || c == '-');
  if (ok) return Ok{};
  return model::invalid_field("id",
                              "lower-case letters, digits, '.' and '-', 1-63 characters, starting and ending with a "
                              "letter or digit");
}

Result<CommandKind> command_kind_from(std::string_view kind) {
  if (auto k = parse_command_kind(kind)) return *k;
  return model::invalid_field("kind", "must be one of " + command_kinds_text());
}

Result<Command> parse_command(std::string id, std::string_view kind, const nlohmann::json& payload) {
  if (auto s = validate_command_id(id); !s) return s.error();
  auto k = command_kind_from(kind);
  if (!k) return k.error();
  auto p = parse_command_payload(*k, payload);
  if (!p) return p.error();
  return Command{std::move(id), std::move(*p)};
}

}  // namespace fleet::protocol
