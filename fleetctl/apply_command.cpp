#include "fleetctl/apply_command.hpp"

#include <utility>
#include <vector>

#include "fleetctl/apply_kinds.hpp"
#include "fleetctl/conditional_write.hpp"
#include "fleetctl/document_file.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/output_format.hpp"

namespace fleet::ctl {
namespace {

struct Applied {
  nlohmann::json object;  // as fleetd answered
  std::string verb;       // created | configured | unchanged
};

// A workload's PUT always writes; the server keeps the generation when nothing changed.
std::string verb_of(const ApplyTarget& target, const WriteOutcome& outcome) {
  if (!outcome.written) return "unchanged";
  if (target.rule->update != UpdateRule::kReplaceAlways) return "configured";
  const bool same =
      member_or_null(outcome.written->body, "generation") == member_or_null(outcome.current.body, "generation");
  return same ? "unchanged" : "configured";
}

Result<Applied> apply_one(ApiClient& api, const ApplyTarget& target) {
  auto current = api.call("GET", target.path);
  if (!current) {
    if (current.error().code != ErrorCode::kNotFound) return current.error();
    auto created = api.call("POST", std::string(target.rule->collection), target.body);
    if (!created) return created.error();
    return Applied{std::move(created->body), "created"};
  }
  auto outcome = read_modify_write(
      api, target.path, [&](const ApiResponse& got) { return plan_update(target, got.body); }, std::move(*current));
  if (!outcome) return outcome.error();
  std::string verb = verb_of(target, *outcome);
  auto& object = outcome->written ? outcome->written->body : outcome->current.body;
  return Applied{std::move(object), std::move(verb)};
}

Result<std::vector<ApplyTarget>> resolve_all(std::vector<nlohmann::json> documents) {
  std::vector<ApplyTarget> targets;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    auto target = resolve_document(std::move(documents[i]), i + 1);
    if (!target) return target.error();
    targets.push_back(std::move(*target));
  }
  return targets;
}

// -o json|yaml: a file of one document prints its object; of several, a list (of those applied before a failure).
void print_objects(Session& session, const std::vector<nlohmann::json>& objects, bool several, OutputFormat format) {
  if (objects.empty()) return;
  session.out() << render_document(several ? as_list(objects) : objects.front(), format);
}

}  // namespace

int apply_command(Session& session, const ApplyOptions& options) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
  auto documents = read_documents(session, options.file);
  if (!documents) return session.fail(documents.error());
  const bool several = documents->size() > 1;
  auto targets = resolve_all(std::move(*documents));
  if (!targets) return session.fail(targets.error());
  auto api = session.api();
  if (!api) return session.fail(api.error());
  std::vector<nlohmann::json> objects;
  for (const ApplyTarget& target : *targets) {
    auto applied = apply_one(**api, target);
    if (!applied) {
      if (is_document_format(format)) print_objects(session, objects, several, format);
      return session.fail(applied.error());
    }
    if (is_document_format(format)) {
      objects.push_back(std::move(applied->object));
    } else {
      session.out() << target.shown << " " << applied->verb << "\n";
    }
  }
  if (is_document_format(format)) print_objects(session, objects, several, format);
  return 0;
}

}  // namespace fleet::ctl
