#include "agents/kube/upgrade/entra_token.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include <cctype>
#include "common/json_text.hpp"
#include "net/http_client.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

// A token response is about 2 KiB; an error page is bounded too.
constexpr std::size_t kMaxTokenResponseBytes = 64 * 1024;
constexpr std::size_t kMaxFederatedTokenBytes = 64 * 1024;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '/' || std::isspace(static_cast<unsigned char>(s.back())))) s.pop_back();
  return s;
}

// "https://host:port/some/path" → {"https://host:port", "/some/path"} (path without a trailing slash).
std::pair<std::string, std::string> split_origin(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path_start = scheme_end == std::string::npos ? std::string::npos : url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) return {trimmed(url), ""};
  return {url.substr(0, path_start), trimmed(url.substr(path_start))};
}

Result<std::string> read_federated_token(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kUnauthenticated,
                      "cannot read the federated token file " + path +
                          " (AZURE_FEDERATED_TOKEN_FILE; is the pod labelled azure.workload.identity/use=true?)");
  }
  std::string text;
  text.resize(kMaxFederatedTokenBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxFederatedTokenBytes) {
    return make_error(ErrorCode::kUnauthenticated, "the federated token file " + path + " is larger than 64 KiB");
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty()) return make_error(ErrorCode::kUnauthenticated, "the federated token file " + path + " is empty");
  return text;
}

class EntraTokenSource final : public TokenSource {
 public:
  explicit EntraTokenSource(EntraTokenOptions options) : options_(std::move(options)) {
    if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
  }

  Result<std::string> token() override {
    std::lock_guard lock(mutex_);
    const auto now = options_.now();
    if (!cached_.empty() && now < refresh_at_) return cached_;
    auto fresh = exchange();
    if (!fresh) return fresh.error();
    cached_ = fresh->token;
    refresh_at_ = token_refresh_at(now, fresh->expires_in);
    return cached_;
  }

  void invalidate() override {
    std::lock_guard lock(mutex_);
    cached_.clear();
  }

 private:
  Result<AccessToken> exchange() const {
    auto assertion = read_federated_token(options_.identity.federated_token_file);
    if (!assertion) return assertion.error();
    http::ClientOptions o;
    o.base_url = split_origin(options_.identity.authority).first;
    o.ca_file = options_.ca_file;
    o.timeout = options_.timeout;
    o.max_response_bytes = kMaxTokenResponseBytes;
    o.user_agent = "fleet-agent";
    auto client = http::Client::create(o);
    if (!client) return make_error(client.error().code, "Entra authority: " + client.error().message);
    const std::string path = token_path(options_.identity);
    auto r = (*client)->request("POST", path, {{"content-type", "application/x-www-form-urlencoded"}},
                                token_request_body(options_.identity, *assertion));
    if (!r) return make_error(r.error().code, "Entra token request POST " + path + ": " + r.error().message);
    auto body = parse_json_text(r->body, kMaxTokenResponseBytes);
    return parse_token_response(r->status, body ? *body : nlohmann::json());
  }

  EntraTokenOptions options_;
  std::mutex mutex_;
  std::string cached_;
  std::chrono::steady_clock::time_point refresh_at_{};
};

}  // namespace

Result<WorkloadIdentity> workload_identity_from_env(const std::function<const char*(const char*)>& getenv) {
  WorkloadIdentity out;
  std::vector<std::string> missing;
  const auto read = [&](const char* name, std::string& into, bool required) {
    const char* v = getenv(name);
    if (v && *v) {
      into = v;
    } else if (required) {
      missing.emplace_back(name);
    }
  };
  read("AZURE_AUTHORITY_HOST", out.authority, false);
  read("AZURE_TENANT_ID", out.tenant_id, true);
  read("AZURE_CLIENT_ID", out.client_id, true);
  read("AZURE_FEDERATED_TOKEN_FILE", out.federated_token_file, true);
  if (!missing.empty()) {
    std::string names;
    for (const std::string& n : missing) names += (names.empty() ? "" : ", ") + n;
    return make_error(ErrorCode::kInvalid,
                      "the aks upgrade driver needs Azure workload identity, but " + names +
                          (missing.size() == 1 ? " is" : " are") +
                          " not set (label the pod azure.workload.identity/use=true and annotate its service account "
                          "with azure.workload.identity/client-id)");
  }
  out.authority = trimmed(out.authority);
  return out;
}

std::string token_request_body(const WorkloadIdentity& identity, std::string_view assertion) {
  return "grant_type=client_credentials&client_id=" + http::url_encode(identity.client_id) +
         "&scope=" + http::url_encode(identity.scope) +
         "&client_assertion_type=" + http::url_encode(kJwtBearerAssertion) +
         "&client_assertion=" + http::url_encode(assertion);
}

std::string token_path(const WorkloadIdentity& identity) {
  return split_origin(identity.authority).second + "/" + http::url_encode(identity.tenant_id) + "/oauth2/v2.0/token";
}

Result<AccessToken> parse_token_response(int status, const nlohmann::json& body) {
  if (status == 200 && body.is_object()) {
    auto t = body.find("access_token");
    auto e = body.find("expires_in");
    if (t != body.end() && t->is_string() && !t->get<std::string>().empty()) {
      AccessToken out{t->get<std::string>(), std::chrono::seconds(300)};
      // expires_in is a number in v2.0 answers, a string in some older ones.
      if (e != body.end() && e->is_number_integer()) out.expires_in = std::chrono::seconds(e->get<std::int64_t>());
      if (e != body.end() && e->is_string()) {
        try {
          out.expires_in = std::chrono::seconds(std::stoll(e->get<std::string>()));
        } catch (const std::exception&) {
          // keep the short default: a token we cannot date is refreshed soon
        }
      }
      return out;
    }
    return make_error(ErrorCode::kUnauthenticated, "the Entra token endpoint answered 200 without an access_token");
  }
  std::string why = "HTTP " + std::to_string(status);
  if (body.is_object()) {
    const std::string error = body.value("error", "");
    const std::string description = body.value("error_description", "");
    if (!error.empty()) why += ": " + error;
    if (!description.empty()) why += ": " + description.substr(0, 400);
  }
  return make_error(ErrorCode::kUnauthenticated,
                    "the Entra token endpoint refused the federated token (" + why +
                        "); check the federated identity credential (issuer, subject "
                        "system:serviceaccount:NAMESPACE:NAME) and the client id",
                    {}, "token-refused");
}

std::chrono::steady_clock::time_point token_refresh_at(std::chrono::steady_clock::time_point obtained,
                                                       std::chrono::seconds expires_in) {
  using namespace std::chrono_literals;
  if (expires_in <= 0s) return obtained;
  if (expires_in < 10min) return obtained + expires_in / 2;
  return obtained + expires_in - 5min;
}

std::unique_ptr<TokenSource> make_entra_token_source(EntraTokenOptions options) {
  return std::make_unique<EntraTokenSource>(std::move(options));
}

}  // namespace fleet::agent::kube
