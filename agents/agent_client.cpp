#include "agents/agent_client.hpp"

#include <algorithm>
#include <utility>

#include "net/http_status.hpp"

namespace fleet::agent {
namespace {

using nlohmann::json;

// The longest wait fleetd grants (docs/api.md); the long-poll connection times out a little after it.
constexpr std::chrono::seconds kMaxPollWait{55};
constexpr std::chrono::seconds kPollTimeoutMargin{15};

std::string wait_param(std::chrono::milliseconds wait) {
  if (wait.count() % 1000 == 0) return std::to_string(wait.count() / 1000) + "s";
  return std::to_string(wait.count()) + "ms";
}

std::optional<int> optional_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

Error bad_reply(const std::string& what, const std::string& why) {
  return make_error(ErrorCode::kInternal, "fleetd's answer to " + what + " is malformed: " + why, "",
                    "invalid-response");
}

}  // namespace

Error error_from_status(int status, const std::string& body, const std::string& what) {
  std::string detail;
  std::string type;
  json problem = json::parse(body, nullptr, false);
  if (problem.is_object()) {
    if (auto it = problem.find("detail"); it != problem.end() && it->is_string()) detail = it->get<std::string>();
    if (auto it = problem.find("type"); it != problem.end() && it->is_string()) type = it->get<std::string>();
  }
  if (detail.empty()) detail = body.substr(0, 200);
  std::string message = what + ": HTTP " + std::to_string(status) + (detail.empty() ? "" : ": " + detail);
  const ErrorCode code = http::error_code_for_status(status);
  // An answer from fleetd, unlike a transport failure, always has a type: callers tell "fleetd refused it"
  // (nothing was applied) from "unknown whether it arrived" by it.
  if (type.empty()) type = "http-" + std::to_string(status);
  return make_error(code, std::move(message), "", std::move(type));
}

namespace {
http::ClientOptions client_options(const AgentClientOptions& options, std::chrono::milliseconds timeout) {
  http::ClientOptions o;
  o.base_url = options.server;
  o.ca_file = options.ca_file;
  o.allow_plain_http = options.allow_plain_http;
  o.timeout = timeout;
  o.max_response_bytes = 8 * 1024 * 1024;
  o.user_agent = "fleet-agent/" + options.agent_version;
  return o;
}
}  // namespace

Result<std::unique_ptr<AgentClient>> AgentClient::create(AgentClientOptions options) {
  auto quick = http::Client::create(client_options(options, options.request_timeout));
  if (!quick) return quick.error();
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(options), std::move(*quick)));
}

AgentClient::AgentClient(AgentClientOptions options, std::unique_ptr<http::Client> quick)
    : options_(std::move(options)), quick_(std::move(quick)) {}

// The long-poll client is made on first use: agents that never hold a long poll (fleet-sim at scale) then own one
// connection and one event loop each, not two, which is what bounds how many fit under a file descriptor limit.
Result<http::Client*> AgentClient::poll_client() {
  if (!poll_) {
    auto made = http::Client::create(client_options(options_, kMaxPollWait + kPollTimeoutMargin));
    if (!made) return made.error();
    poll_ = std::move(*made);
  }
  return poll_.get();
}

namespace {

http::Headers agent_headers(const std::string& credential, const std::string& body) {
  http::Headers headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + credential}};
  if (!body.empty()) headers["Content-Type"] = "application/json";
  return headers;
}

// fleetd's answer as a JSON object, or the error it stands for.
Result<json> reply_json(const Result<http::ClientResponse>& response, const std::string& what) {
  if (!response) return response.error();
  if (response->status < 200 || response->status >= 300) {
    return error_from_status(response->status, response->body, what);
  }
  json out = json::parse(response->body, nullptr, false);
  if (!out.is_object()) return bad_reply(what, "not a JSON object");
  return out;
}

std::string poll_path(const AgentIdentity& who, std::chrono::milliseconds wait, int limit) {
  return "/v1/agents/" + who.cluster + "/commands?wait=" + wait_param(wait) + "&limit=" + std::to_string(limit);
}

Result<CommandPoll> parse_poll(const Result<json>& reply, const std::string& path) {
  if (!reply) return reply.error();
  CommandPoll out;
  out.lease_seconds = optional_int(*reply, "leaseSeconds");
  auto list = reply->find("commands");
  if (list == reply->end() || !list->is_array()) return bad_reply("GET " + path, "no commands array");
  for (const auto& item : *list) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || !item.contains("kind") ||
        !item["kind"].is_string()) {
      return bad_reply("GET " + path, "a command without id or kind");
    }
    LeasedCommand leased;
    leased.id = item["id"].get<std::string>();
    leased.kind = item["kind"].get<std::string>();
    leased.payload = item.value("payload", json::object());
    leased.attempt = item.value("attempt", 1);
    out.commands.push_back(std::move(leased));
  }
  return out;
}

}  // namespace

Result<json> AgentClient::call(http::Client& client, const std::string& method, const std::string& path,
                               const std::string& credential, const std::string& body) {
  return reply_json(client.request(method, path, agent_headers(credential, body), body), method + " " + path);
}

Result<RegisterReply> AgentClient::register_agent(const std::string& bootstrap_token) {
  json body = {{"agentVersion", options_.agent_version}};
  auto reply = call(*quick_, "POST", "/v1/agents/register", bootstrap_token, body.dump());
  if (!reply) return reply.error();
  RegisterReply out;
  auto cluster = reply->find("cluster");
  auto credential = reply->find("credential");
  if (cluster == reply->end() || !cluster->is_string() || credential == reply->end() || !credential->is_string()) {
    return bad_reply("POST /v1/agents/register", "no cluster or credential");
  }
  out.identity = {cluster->get<std::string>(), credential->get<std::string>()};
  out.heartbeat_interval_seconds = optional_int(*reply, "heartbeatIntervalSeconds");
  return out;
}

Result<HeartbeatReply> AgentClient::heartbeat(const AgentIdentity& who, const json& envelope) {
  auto reply = call(*quick_, "POST", "/v1/agents/" + who.cluster + "/heartbeat", who.credential, envelope.dump());
  if (!reply) return reply.error();
  HeartbeatReply out;
  out.resync = reply->value("resync", false);
  out.reason = reply->value("reason", "");
  out.heartbeat_interval_seconds = optional_int(*reply, "heartbeatIntervalSeconds");
  if (auto it = reply->find("commandsPending"); it != reply->end() && it->is_boolean()) {
    out.commands_pending = it->get<bool>();
  }
  return out;
}

Result<json> AgentClient::admission_policy(const AgentIdentity& who) {
  return call(*quick_, "GET", "/v1/agents/" + who.cluster + "/admission-policy", who.credential, "");
}

// Quick: it shares the heartbeat connection instead of opening the long-poll one.
Result<CommandPoll> AgentClient::poll_commands(const AgentIdentity& who, int limit) {
  const std::string path = poll_path(who, std::chrono::milliseconds(0), limit);
  return parse_poll(call(*quick_, "GET", path, who.credential, ""), path);
}

Status AgentClient::start_poll(const AgentIdentity& who, std::chrono::milliseconds wait, int limit) {
  wait = std::clamp(wait, std::chrono::milliseconds(1), std::chrono::milliseconds(kMaxPollWait));
  auto poll = poll_client();
  if (!poll) return poll.error();
  held_poll_path_ = poll_path(who, wait, limit);
  return (*poll)->send("GET", held_poll_path_, agent_headers(who.credential, ""));
}

std::optional<Result<CommandPoll>> AgentClient::await_poll(std::chrono::steady_clock::time_point until) {
  if (!poll_) return Result<CommandPoll>(make_error(ErrorCode::kInvalid, "no command poll is held"));
  auto answer = poll_->await_response(until);
  if (!answer) return std::nullopt;
  return parse_poll(reply_json(*answer, "GET " + held_poll_path_), held_poll_path_);
}

bool AgentClient::holding_poll() const {
  return poll_ && poll_->awaiting();
}

void AgentClient::abandon_poll() {
  if (poll_) poll_->abandon();
}

Status AgentClient::report(const AgentIdentity& who, const protocol::CommandReport& report) {
  const json body = protocol::to_json(report);
  auto reply = call(*quick_, "POST", "/v1/agents/" + who.cluster + "/commands/" + report.id, who.credential,
                    body.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!reply) return reply.error();
  return Ok{};
}

}  // namespace fleet::agent
