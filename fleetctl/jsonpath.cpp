#include "fleetctl/jsonpath.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

namespace fleet::ctl {

namespace {

struct Step {
  enum class Kind { kField, kWildcard, kIndex, kSlice, kRecursive };
  Kind kind = Kind::kField;
  std::string name;  // kField, kRecursive ("*" → every value below)
  long long index = 0;
  std::optional<long long> from, to;  // kSlice
};

struct Path {
  bool from_root = false;  // `$`: the whole document, even inside a range
  std::vector<Step> steps;
};

Error invalid(std::string_view text, const std::string& why) {
  return make_error(ErrorCode::kInvalid, "invalid jsonpath \"" + std::string(text) + "\": " + why);
}

bool is_name_char(char c) {
  return c != '.' && c != '[' && c != ']' && c != ' ' && c != '{' && c != '}' && c != ',' && c != '(' && c != ')';
}

std::optional<long long> to_int(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// \n, \t, \r, \\ and (in quoted strings) the quote; any other backslash stays as written.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '\\':
      case '"':
      case '\'':
        out += c;
        break;
      default:
        out += '\\';
        out += c;
    }
  }
  return out;
}

Result<Step> parse_bracket(std::string_view whole, std::string_view inner) {
  const std::string body = trim(inner);
  if (body == "*") return Step{Step::Kind::kWildcard, "", 0, {}, {}};
  if (body.size() >= 2 && (body.front() == '\'' || body.front() == '"') && body.back() == body.front()) {
    return Step{Step::Kind::kField, unescape(std::string_view(body).substr(1, body.size() - 2)), 0, {}, {}};
  }
  if (body.starts_with("?")) return invalid(whole, "filters [?(...)] are not supported");
  if (const auto colon = body.find(':'); colon != std::string::npos) {
    Step step{Step::Kind::kSlice, "", 0, {}, {}};
    const std::string from = trim(std::string_view(body).substr(0, colon));
    const std::string to = trim(std::string_view(body).substr(colon + 1));
    if (!from.empty() && !(step.from = to_int(from))) return invalid(whole, "bad slice [" + body + "]");
    if (!to.empty() && !(step.to = to_int(to))) return invalid(whole, "bad slice [" + body + "]");
    return step;
  }
  auto index = to_int(body);
  if (!index) return invalid(whole, "expected [N], [*], [A:B] or ['key'], got [" + body + "]");
  return Step{Step::Kind::kIndex, "", *index, {}, {}};
}

Result<Path> parse_path(std::string_view text) {
  Path path;
  std::size_t i = 0;
  if (text.empty()) return invalid(text, "empty expression");
  if (text[0] == '$' || text[0] == '@') {
    path.from_root = text[0] == '$';
    ++i;
  }
  while (i < text.size()) {
    const char c = text[i];
    if (c == '[') {
      // The closing bracket, skipping quoted keys that may hold one.
      std::size_t j = i + 1;
      char quote = 0;
      for (; j < text.size(); ++j) {
        if (quote) {
          if (text[j] == '\\')
            ++j;
          else if (text[j] == quote)
            quote = 0;
        } else if (text[j] == '\'' || text[j] == '"') {
          quote = text[j];
        } else if (text[j] == ']') {
          break;
        }
      }
      if (j >= text.size()) return invalid(text, "unclosed [");
      auto step = parse_bracket(text, text.substr(i + 1, j - i - 1));
      if (!step) return step.error();
      path.steps.push_back(std::move(*step));
      i = j + 1;
      continue;
    }
    if (c != '.') return invalid(text, std::string("unexpected '") + c + "' at position " + std::to_string(i + 1));
    const bool recursive = i + 1 < text.size() && text[i + 1] == '.';
    i += recursive ? 2 : 1;
    if (i < text.size() && text[i] == '*') {
      path.steps.push_back({recursive ? Step::Kind::kRecursive : Step::Kind::kWildcard, "*", 0, {}, {}});
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && is_name_char(text[j])) ++j;
    if (j == i) {
      if (recursive) return invalid(text, "expected a name after ..");
      if (i == text.size() || text[i] == '[') continue;  // "{.}" is the current object; ".[0]" indexes it
      return invalid(text, std::string("unexpected '") + text[i] + "' at position " + std::to_string(i + 1));
    }
    path.steps.push_back(
        {recursive ? Step::Kind::kRecursive : Step::Kind::kField, std::string(text.substr(i, j - i)), 0, {}, {}});
    i = j;
  }
  return path;
}

bool kubectl_section(const std::string& name) {
  return name == "metadata" || name == "spec" || name == "status";
}

void collect_recursive(const nlohmann::json& value, const std::string& name, std::vector<const nlohmann::json*>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      if (name == "*" || key == name) out.push_back(&child);
    }
  }
  if (value.is_object() || value.is_array()) {
    for (const auto& child : value) collect_recursive(child, name, out);
  }
}

std::vector<const nlohmann::json*> evaluate(const Path& path, const nlohmann::json& root, const nlohmann::json& at) {
  std::vector<const nlohmann::json*> current = {path.from_root ? &root : &at};
  for (const auto& step : path.steps) {
    std::vector<const nlohmann::json*> next;
    for (const nlohmann::json* v : current) {
      switch (step.kind) {
        case Step::Kind::kField:
          if (v->is_object()) {
            if (auto it = v->find(step.name); it != v->end()) {
              next.push_back(&*it);
            } else if (kubectl_section(step.name)) {
              next.push_back(v);  // fleetd's objects are flat: see the header
            }
          }
          break;
        case Step::Kind::kWildcard:
          if (v->is_object() || v->is_array()) {
            for (const auto& child : *v) next.push_back(&child);
          }
          break;
        case Step::Kind::kIndex:
          if (v->is_array()) {
            const auto size = static_cast<long long>(v->size());
            const long long i = step.index < 0 ? size + step.index : step.index;
            if (i >= 0 && i < size) next.push_back(&(*v)[static_cast<std::size_t>(i)]);
          }
          break;
        case Step::Kind::kSlice:
          if (v->is_array()) {
            const auto size = static_cast<long long>(v->size());
            auto clamp = [size](long long x) { return std::clamp(x < 0 ? size + x : x, 0LL, size); };
            const long long from = clamp(step.from.value_or(0));
            const long long to = clamp(step.to.value_or(size));
            for (long long i = from; i < to; ++i) next.push_back(&(*v)[static_cast<std::size_t>(i)]);
          }
          break;
        case Step::Kind::kRecursive:
          collect_recursive(*v, step.name, next);
          break;
      }
    }
    current = std::move(next);
  }
  return current;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

struct JsonPathTemplate::Node {
  enum class Kind { kText, kPath, kRange };
  Kind kind = Kind::kText;
  std::string text;
  Path path;
  std::vector<Node> body;  // kRange
};

namespace {

using Node = JsonPathTemplate::Node;

// Where the action starting at `open` ('{') ends: its '}', quoted strings skipped. npos when unclosed.
std::size_t action_end(std::string_view text, std::size_t open) {
  char quote = 0;
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (quote) {
      if (text[i] == '\\')
        ++i;
      else if (text[i] == quote)
        quote = 0;
    } else if (text[i] == '"' || text[i] == '\'') {
      quote = text[i];
    } else if (text[i] == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

void render_nodes(const std::vector<Node>& nodes, const nlohmann::json& root, const nlohmann::json& at,
                  std::string& out) {
  for (const auto& node : nodes) {
    switch (node.kind) {
      case Node::Kind::kText:
        out += node.text;
        break;
      case Node::Kind::kPath: {
        bool first = true;
        for (const nlohmann::json* v : evaluate(node.path, root, at)) {
          if (!first) out += ' ';
          out += value_text(*v);
          first = false;
        }
        break;
      }
      case Node::Kind::kRange:
        for (const nlohmann::json* v : evaluate(node.path, root, at)) render_nodes(node.body, root, *v, out);
        break;
    }
  }
}

}  // namespace

Result<JsonPathTemplate> JsonPathTemplate::parse(std::string_view text) {
  // A stack of open ranges: the bottom is the template itself.
  std::vector<std::vector<Node>> stack(1);
  std::vector<Node> open_ranges;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '{') {
      const std::size_t next = std::min(text.find('{', i), text.size());
      stack.back().push_back({Node::Kind::kText, unescape(text.substr(i, next - i)), {}, {}});
      i = next;
      continue;
    }
    const std::size_t close = action_end(text, i);
    if (close == std::string_view::npos) return invalid(text, "unclosed { at position " + std::to_string(i + 1));
    const std::string action = trim(text.substr(i + 1, close - i - 1));
    i = close + 1;
    if (action.empty()) return invalid(text, "empty {}");
    if (action == "end") {
      if (open_ranges.empty()) return invalid(text, "{end} without {range}");
      Node range = std::move(open_ranges.back());
      open_ranges.pop_back();
      range.body = std::move(stack.back());
      stack.pop_back();
      stack.back().push_back(std::move(range));
    } else if (action.starts_with("range ") || action == "range") {
      auto path = parse_path(trim(std::string_view(action).substr(5)));
      if (!path) return path.error();
      open_ranges.push_back({Node::Kind::kRange, "", std::move(*path), {}});
      stack.emplace_back();
    } else if (action.front() == '"' || action.front() == '\'') {
      if (action.size() < 2 || action.back() != action.front()) return invalid(text, "unclosed string " + action);
      stack.back().push_back(
          {Node::Kind::kText, unescape(std::string_view(action).substr(1, action.size() - 2)), {}, {}});
    } else {
      auto path = parse_path(action);
      if (!path) return path.error();
      stack.back().push_back({Node::Kind::kPath, "", std::move(*path), {}});
    }
  }
  if (!open_ranges.empty()) return invalid(text, "{range} without {end}");
  JsonPathTemplate out;
  out.nodes_ = std::make_shared<const std::vector<Node>>(std::move(stack.front()));
  return out;
}

std::string JsonPathTemplate::render(const nlohmann::json& document) const {
  std::string out;
  if (nodes_) render_nodes(*nodes_, document, document, out);
  return out;
}

Result<std::vector<nlohmann::json>> jsonpath_select(std::string_view path, const nlohmann::json& document) {
  std::string expression = trim(path);
  if (expression.size() >= 2 && expression.front() == '{' && expression.back() == '}') {
    expression = trim(std::string_view(expression).substr(1, expression.size() - 2));
  }
  if (expression.empty()) return invalid(path, "empty expression");
  if (expression.front() != '.' && expression.front() != '$' && expression.front() != '@' &&
      expression.front() != '[') {
    expression = "." + expression;  // kubectl accepts "metadata.name" as well
  }
  auto parsed = parse_path(expression);
  if (!parsed) return parsed.error();
  std::vector<nlohmann::json> out;
  for (const nlohmann::json* v : evaluate(*parsed, document, document)) out.push_back(*v);
  return out;
}

Status sort_by_jsonpath(std::vector<nlohmann::json>& items, std::string_view path) {
  if (auto probe = jsonpath_select(path, nlohmann::json::object()); !probe) return probe.error();
  // Rank: 0 number, 1 string, 2 any other value, 3 nothing.
  std::vector<std::pair<int, nlohmann::json>> keys;
  keys.reserve(items.size());
  for (const auto& item : items) {
    auto selected = jsonpath_select(path, item);
    const nlohmann::json key = selected && !selected->empty() ? selected->front() : nlohmann::json(nullptr);
    const int rank = key.is_number() ? 0 : key.is_string() ? 1 : key.is_null() ? 3 : 2;
    keys.emplace_back(rank, rank == 2 ? nlohmann::json(key.dump()) : key);
  }
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& [ra, ka] = keys[a];
    const auto& [rb, kb] = keys[b];
    if (ra != rb) return ra < rb;
    if (ra == 0) return ka.get<double>() < kb.get<double>();
    if (ra == 3) return false;
    return ka.get<std::string>() < kb.get<std::string>();
  });
  std::vector<nlohmann::json> sorted;
  sorted.reserve(items.size());
  for (std::size_t i : order) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
  return Ok{};
}

}  // namespace fleet::ctl
