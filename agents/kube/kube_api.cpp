#include "agents/kube/kube_api.hpp"

#include <fstream>
#include <sstream>
#include <utility>

#include "agents/kube/manifest_url.hpp"
#include "net/http_client.hpp"
#include "net/http_status.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

// Bound service account tokens rotate (kubelet refreshes the file well before expiry); client-go re-reads the
// file about once a minute, and so do we.
constexpr auto kTokenReread = std::chrono::seconds(60);

}  // namespace

std::string status_message(const ApiResponse& r) {
  const nlohmann::json& b = r.body;
  if (b.is_object() && b.value("kind", "") == "Status") {
    std::string message = b.value("message", "");
    if (auto d = b.find("details"); d != b.end() && d->is_object()) {
      if (auto causes = d->find("causes"); causes != d->end() && causes->is_array()) {
        for (const auto& cause : *causes) {
          if (cause.is_object() && cause.contains("message") && cause["message"].is_string()) {
            message +=
                (message.empty() ? "" : " (") + cause["message"].get<std::string>() + (message.empty() ? "" : ")");
          }
        }
      }
    }
    if (!message.empty()) return message;
  }
  std::string raw = r.raw.substr(0, 200);
  return raw.empty() ? "no details" : raw;
}

Error api_error(std::string_view method, std::string_view path, const ApiResponse& r) {
  std::string message = std::string(method) + " " + std::string(path) + ": " + std::to_string(r.status) + " " +
                        http::reason_phrase(r.status) + ": " + status_message(r);
  if (r.status == 401) message += " (check the bearer token or client certificate)";
  if (r.status == 403) message += " (check the agent's ClusterRole)";
  return make_error(http::error_code_for_status(r.status), std::move(message));
}

KubeApi::KubeApi(KubeConnection connection, std::unique_ptr<http::Client> client)
    : connection_(std::move(connection)), client_(std::move(client)), token_(connection_.token) {}

KubeApi::~KubeApi() = default;

Result<std::unique_ptr<KubeApi>> KubeApi::create(KubeConnection connection, std::chrono::milliseconds timeout) {
  http::ClientOptions o;
  o.base_url = connection.server;
  o.ca_file = connection.ca_file;
  o.ca_pem = connection.ca_pem;
  o.client_cert_file = connection.client_cert_file;
  o.client_cert_pem = connection.client_cert_pem;
  o.client_key_file = connection.client_key_file;
  o.client_key_pem = connection.client_key_pem;
  o.timeout = timeout;
  o.user_agent = "fleet-agent";
  auto client = http::Client::create(o);
  if (!client) {
    return make_error(client.error().code, connection.source + ": " + client.error().message);
  }
  return std::unique_ptr<KubeApi>(new KubeApi(std::move(connection), std::move(*client)));
}

Result<std::string> KubeApi::bearer_token() {
  if (connection_.token_file.empty()) return token_;
  const auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now - token_read_ < kTokenReread) return token_;
  std::ifstream in(connection_.token_file);
  if (!in) {
    if (!token_.empty()) return token_;  // keep the last good token through a transient read failure
    return make_error(ErrorCode::kUnauthenticated, "cannot read the token file " + connection_.token_file);
  }
  std::ostringstream s;
  s << in.rdbuf();
  std::string t = s.str();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  token_ = std::move(t);
  token_read_ = now;
  return token_;
}

Result<ApiResponse> KubeApi::call(std::string_view method, const std::string& path, const std::string& body,
                                  std::string_view content_type) {
  auto token = bearer_token();
  if (!token) return token.error();
  http::Headers headers{{"accept", "application/json"}};
  if (!token->empty()) headers["authorization"] = "Bearer " + *token;
  if (!content_type.empty()) headers["content-type"] = std::string(content_type);
  auto r = client_->request(std::string(method), path, headers, body);
  if (!r) return make_error(r.error().code, std::string(method) + " " + path + ": " + r.error().message);
  ApiResponse out;
  out.status = r->status;
  out.raw = std::move(r->body);
  if (!out.raw.empty()) out.body = nlohmann::json::parse(out.raw, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

Result<nlohmann::json> KubeApi::get(const std::string& path) {
  auto r = call("GET", path);
  if (!r) return r.error();
  if (r->status < 200 || r->status >= 300) return api_error("GET", path, *r);
  if (!r->body.is_object()) {
    return make_error(ErrorCode::kUnavailable, "GET " + path + ": the API server answered with no JSON object");
  }
  return std::move(r->body);
}

Result<nlohmann::json> KubeApi::list(const std::string& path, std::size_t page_size) {
  nlohmann::json out = {{"items", nlohmann::json::array()}, {"metadata", nlohmann::json::object()}};
  std::string continue_token;
  const std::string limit = std::to_string(page_size);
  do {
    const std::string page_path = continue_token.empty()
                                      ? http::with_query(path, {{"limit", limit}})
                                      : http::with_query(path, {{"limit", limit}, {"continue", continue_token}});
    auto page = get(page_path);
    if (!page) return page.error();
    if (auto items = page->find("items"); items != page->end() && items->is_array()) {
      for (auto& item : *items) out["items"].push_back(std::move(item));
    }
    continue_token.clear();
    if (auto md = page->find("metadata"); md != page->end() && md->is_object()) {
      continue_token = md->value("continue", "");
      // Every page of a paged list is served at the first page's resourceVersion.
      if (auto rv = md->find("resourceVersion"); rv != md->end() && rv->is_string()) {
        out["metadata"]["resourceVersion"] = *rv;
      }
    }
  } while (!continue_token.empty());
  return out;
}

Result<ApiResponse> KubeApi::watch(const std::string& path, const std::function<bool(std::string_view)>& on_line,
                                   std::chrono::milliseconds timeout) {
  auto token = bearer_token();
  if (!token) return token.error();
  http::Headers headers{{"accept", "application/json"}};
  if (!token->empty()) headers["authorization"] = "Bearer " + *token;
  std::string pending;  // the start of a line whose end has not arrived yet
  bool stopped = false;
  auto on_data = [&](std::string_view data) {
    pending.append(data);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty() && !on_line(line)) {
        stopped = true;
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  };
  auto r = client_->stream("GET", path, headers, {}, on_data, timeout);
  if (!r) return make_error(r.error().code, "GET " + path + ": " + r.error().message);
  // A last line without its newline is complete once the response has ended.
  if (!stopped && !pending.empty() && r->status == 200) on_line(pending);
  ApiResponse out;
  out.status = r->status;
  out.raw = std::move(r->body);
  if (!out.raw.empty()) out.body = nlohmann::json::parse(out.raw, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

void KubeApi::cancel() {
  client_->cancel();
}

}  // namespace fleet::agent::kube
