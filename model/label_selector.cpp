#include "model/label_selector.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "model/names.hpp"

namespace fleet::model {
namespace {

using Op = LabelRequirement::Op;

constexpr std::string_view kField = "labelSelector";
// Tokens echoed in messages are cut so that a 4 KiB garbage selector does not come back in full.
constexpr std::size_t kMaxEchoedToken = 64;

enum class Tok {
  kIdentifier,
  kNot,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kIn,
  kNotIn,
  kOpen,
  kClose,
  kComma,
  kEnd,
  kUnsupported
};

struct Token {
  Tok kind;
  std::string_view text;
  std::size_t offset;
};

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
// Kubernetes' special symbols; `<` and `>` (gt/lt) are recognised only to be refused with a clear message.
bool is_special(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_whitespace(s[i])) ++i;
    if (i == s.size()) {
      out.push_back({Tok::kEnd, {}, i});
      return out;
    }
    std::size_t start = i;
    char c = s[i];
    if (is_special(c)) {
      Tok kind = Tok::kUnsupported;
      std::size_t len = 1;
      bool next_eq = i + 1 < s.size() && s[i + 1] == '=';
      switch (c) {
        case '=':
          kind = next_eq ? Tok::kDoubleEquals : Tok::kEquals;
          len = next_eq ? 2 : 1;
          break;
        case '!':
          kind = next_eq ? Tok::kNotEquals : Tok::kNot;
          len = next_eq ? 2 : 1;
          break;
        case '(':
          kind = Tok::kOpen;
          break;
        case ')':
          kind = Tok::kClose;
          break;
        case ',':
          kind = Tok::kComma;
          break;
        default:
          break;  // '<', '>'
      }
      out.push_back({kind, s.substr(start, len), start});
      i += len;
      continue;
    }
    while (i < s.size() && !is_whitespace(s[i]) && !is_special(s[i])) ++i;
    std::string_view word = s.substr(start, i - start);
    Tok kind = word == "in" ? Tok::kIn : word == "notin" ? Tok::kNotIn : Tok::kIdentifier;
    out.push_back({kind, word, start});
  }
}

std::string describe(const Token& t) {
  if (t.kind == Tok::kEnd) return "end of input";
  std::string_view text = t.text.substr(0, kMaxEchoedToken);
  std::string quoted = nlohmann::json(std::string(text)).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (text.size() < t.text.size()) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

Error query_error(std::string message) {
  return make_error(ErrorCode::kInvalid, std::string(kField) + ": " + std::move(message), std::string(kField),
                    "invalid-query");
}

Error unexpected(const Token& t, std::string_view expected) {
  std::string msg =
      "unexpected " + describe(t) + " at offset " + std::to_string(t.offset) + "; expected " + std::string(expected);
  if (t.kind == Tok::kUnsupported) msg += " (the '<' and '>' operators are not supported)";
  return query_error(std::move(msg));
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<LabelSelector> parse() {
    LabelSelector selector;
    if (peek().kind == Tok::kEnd) return selector;
    while (true) {
      if (selector.requirements.size() == kMaxSelectorRequirements) {
        return query_error("at most " + std::to_string(kMaxSelectorRequirements) + " requirements are allowed");
      }
      auto r = parse_requirement();
      if (!r) return r.error();
      selector.requirements.push_back(std::move(r).value());
      const Token& t = next();
      if (t.kind == Tok::kEnd) return selector;
      if (t.kind != Tok::kComma) return unexpected(t, "',' or end of input");
      // A trailing comma is an error, as in Kubernetes: `a=b,` is not `a=b`.
      if (!starts_requirement(peek())) return unexpected(peek(), "a label key or '!' after ','");
    }
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (t.kind != Tok::kEnd) ++pos_;
    return t;
  }
  // Where a key or value is expected, `in` and `notin` are ordinary words (Kubernetes' "Values" context).
  static bool is_word(const Token& t) {
    return t.kind == Tok::kIdentifier || t.kind == Tok::kIn || t.kind == Tok::kNotIn;
  }
  static bool starts_requirement(const Token& t) { return is_word(t) || t.kind == Tok::kNot; }

  Result<LabelRequirement> parse_requirement() {
    LabelRequirement r;
    const Token* t = &next();
    bool negated = t->kind == Tok::kNot;
    if (negated) t = &next();
    if (!is_word(*t)) return unexpected(*t, negated ? "a label key after '!'" : "a label key or '!'");
    if (std::string p = label_key_problem(t->text); !p.empty()) {
      return query_error("invalid key " + describe(*t) + " at offset " + std::to_string(t->offset) + ": " + p);
    }
    r.key = std::string(t->text);
    Tok after = peek().kind;
    if (negated || after == Tok::kEnd || after == Tok::kComma) {
      // `!k=v` falls through to the caller, which reports the '=' where ',' or the end was expected.
      r.op = negated ? Op::kDoesNotExist : Op::kExists;
      return r;
    }
    const Token& op = next();
    switch (op.kind) {
      case Tok::kEquals:
      case Tok::kDoubleEquals:
      case Tok::kNotEquals: {
        r.op = op.kind == Tok::kNotEquals ? Op::kNotEquals : Op::kEquals;
        auto v = parse_exact_value();
        if (!v) return v.error();
        r.values.push_back(std::move(v).value());
        return r;
      }
      case Tok::kIn:
      case Tok::kNotIn: {
        r.op = op.kind == Tok::kIn ? Op::kIn : Op::kNotIn;
        auto v = parse_value_set();
        if (!v) return v.error();
        r.values = std::move(v).value();
        return r;
      }
      default:
        return unexpected(op, "one of '=', '==', '!=', 'in', 'notin', ',' or end of input");
    }
  }

  Result<std::string> check_value(const Token& t) {
    if (std::string p = label_value_problem(t.text); !p.empty()) {
      return query_error("invalid value " + describe(t) + " at offset " + std::to_string(t.offset) + ": " + p);
    }
    return std::string(t.text);
  }

  // `k=` (followed by ',' or the end) is the empty value, as in Kubernetes.
  Result<std::string> parse_exact_value() {
    Tok k = peek().kind;
    if (k == Tok::kEnd || k == Tok::kComma) return std::string();
    const Token& t = next();
    if (!is_word(t)) return unexpected(t, "a label value");
    return check_value(t);
  }

  // Kubernetes' set grammar, including its treatment of empty members: `()`, `(,a)`, `(a,)` and `(a,,b)` contain
  // the empty value.
  Result<std::vector<std::string>> parse_value_set() {
    const Token& open = next();
    if (open.kind != Tok::kOpen) return unexpected(open, "'('");
    std::set<std::string> values;
    auto add = [&](std::string v) -> Status {
      values.insert(std::move(v));
      if (values.size() > kMaxSelectorValues) {
        return query_error("at most " + std::to_string(kMaxSelectorValues) + " values are allowed in a set");
      }
      return Ok{};
    };
    bool expect_value = true;  // at the start and after each ','
    while (true) {
      const Token& t = next();
      if (t.kind == Tok::kClose) {
        if (expect_value) {
          if (auto s = add(""); !s) return s.error();
        }
        break;
      }
      if (t.kind == Tok::kComma) {
        if (expect_value) {
          if (auto s = add(""); !s) return s.error();
        }
        expect_value = true;
        continue;
      }
      if (is_word(t) && expect_value) {
        auto v = check_value(t);
        if (!v) return v.error();
        if (auto s = add(std::move(v).value()); !s) return s.error();
        expect_value = false;
        continue;
      }
      return unexpected(t, expect_value ? "a label value, ',' or ')'" : "',' or ')'");
    }
    return std::vector<std::string>(values.begin(), values.end());
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

const std::string* find(const model::Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

bool contains(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

const char* sql_op(Op op) {
  switch (op) {
    case Op::kEquals:
      return "=";
    case Op::kNotEquals:
      return "!=";
    case Op::kIn:
      return "in";
    case Op::kNotIn:
      return "notin";
    case Op::kExists:
      return "exists";
    case Op::kDoesNotExist:
      return "!";
  }
  return "";
}

}  // namespace

Result<LabelSelector> parse_label_selector(std::string_view text) {
  if (text.size() > kMaxSelectorBytes) {
    return query_error("must be at most " + std::to_string(kMaxSelectorBytes) + " bytes (is " +
                       std::to_string(text.size()) + ")");
  }
  return Parser(lex(text)).parse();
}

bool matches(const LabelSelector& selector, const model::Labels& labels) {
  for (const LabelRequirement& r : selector.requirements) {
    const std::string* v = find(labels, r.key);
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
        ok = v && !r.values.empty() && *v == r.values.front();
        break;
      case Op::kNotEquals:
        ok = !v || r.values.empty() || *v != r.values.front();
        break;
      case Op::kIn:
        ok = v && contains(r.values, *v);
        break;
      case Op::kNotIn:
        ok = !v || !contains(r.values, *v);
        break;
      case Op::kExists:
        ok = v != nullptr;
        break;
      case Op::kDoesNotExist:
        ok = v == nullptr;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

nlohmann::json to_sql_json(const LabelSelector& selector) {
  nlohmann::json out = nlohmann::json::array();
  for (const LabelRequirement& r : selector.requirements) {
    out.push_back({{"key", r.key}, {"op", sql_op(r.op)}, {"values", r.values}});
  }
  return out;
}

std::string to_string(const LabelSelector& selector) {
  std::string out;
  for (const LabelRequirement& r : selector.requirements) {
    if (!out.empty()) out += ',';
    switch (r.op) {
      case Op::kEquals:
      case Op::kNotEquals:
        out += r.key;
        out += r.op == Op::kEquals ? "=" : "!=";
        if (!r.values.empty()) out += r.values.front();
        break;
      case Op::kIn:
      case Op::kNotIn: {
        out += r.key;
        out += r.op == Op::kIn ? " in (" : " notin (";
        for (std::size_t i = 0; i < r.values.size(); ++i) {
          if (i) out += ',';
          out += r.values[i];
        }
        out += ')';
        break;
      }
      case Op::kExists:
        out += r.key;
        break;
      case Op::kDoesNotExist:
        out += '!' + r.key;
        break;
    }
  }
  return out;
}

}  // namespace fleet::model
