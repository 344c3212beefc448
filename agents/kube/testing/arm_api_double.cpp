#include "agents/kube/testing/arm_api_double.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "agents/kube/testing/query_string.hpp"
#include "net/http_server.hpp"

namespace fleet::agent::kube::testing {
namespace {

using nlohmann::json;

std::vector<std::string> split_decoded_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(url_decode(path.substr(start, slash - start)));
    start = slash + 1;
  }
  return out;
}

http::Response reply(int status, const json& body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.headers = std::move(headers);
  if (!body.is_null()) {
    r.headers["content-type"] = "application/json; charset=utf-8";
    r.body = body.dump();
  }
  r.route = "arm-double";
  return r;
}

http::Response arm_fault(int status, const std::string& code, const std::string& message) {
  return reply(status, {{"error", {{"code", code}, {"message", message}}}});
}

}  // namespace

// Outside the anonymous namespace because State (declared in the header) holds them.
struct ArmDoubleOperation {
  std::string pool;    // "" → the managed cluster
  std::string kind;    // the provisioningState while it runs
  std::string target;  // version, channel or node image
  int polls_left = 0;  // -1: hangs
  OperationEnd end = OperationEnd::kSucceed;
  std::string code;
  std::string message;
  std::string status = "InProgress";
  int percent = 0;
  bool done() const { return status != "InProgress"; }
};

struct ArmApiDouble::State {
  ArmApiDoubleOptions options;
  std::unique_ptr<http::Server> server;
  std::thread thread;

  mutable std::mutex mutex;
  json cluster;  // properties without agentPoolProfiles (built from `pools` on every read)
  std::map<std::string, json> pools;
  std::map<std::string, ArmDoubleOperation> operations;
  std::set<std::string> issued_tokens;
  int revoked = 0;  // keeps token names unique after a revocation
  int next_operation = 1;
  int next_etag = 1;
  bool refuse = false;
  int busy = 0;
  int stale = 0;
  OperationEnd end = OperationEnd::kSucceed;
  std::string end_code = "UpgradeFailed";
  std::string end_message;
  bool location_only = false;
  int token_requests = 0;
  std::vector<ArmRecordedRequest> requests;
  std::function<void(const std::string&, const json&)> pool_created;
  std::function<void(const std::string&)> pool_deleted;
  std::function<void(const std::string&, const json&)> upgraded;
  std::map<std::string, json> maintenance;  // planned maintenance configurations by name

  // The id the agent is configured with: the managed cluster, or (AKS Arc) the connected cluster.
  std::string cluster_id() const {
    return "/subscriptions/" + options.subscription + "/resourceGroups/" + options.resource_group +
           (options.aks_arc ? "/providers/Microsoft.Kubernetes/connectedClusters/"
                            : "/providers/Microsoft.ContainerService/managedClusters/") +
           options.cluster;
  }
  // Where the cluster resource is: the managed cluster, or the connected cluster's provisioned cluster instance.
  std::string cluster_path() const {
    return cluster_id() +
           (options.aks_arc ? "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default" : "");
  }
  // AKS Arc's resources carry no eTag (the driver then sends no If-Match).
  void stamp(json& resource) {
    if (!options.aks_arc) resource["eTag"] = "\"" + std::to_string(next_etag++) + "\"";
  }
  static http::Headers etag_header(const json& resource) {
    if (!resource.contains("eTag")) return {};
    return {{"etag", resource["eTag"].get<std::string>()}};
  }

  json& resource(const std::string& pool) { return pool.empty() ? cluster : pools.at(pool); }

  json cluster_view() const {
    json out = cluster;
    json profiles = json::array();
    for (const auto& [name, pool] : pools) {
      json p = pool["properties"];
      p["name"] = name;
      profiles.push_back(p);
    }
    out["properties"]["agentPoolProfiles"] = profiles;
    return out;
  }

  bool in_flight() const {
    return std::any_of(operations.begin(), operations.end(), [](const auto& o) { return !o.second.done(); });
  }

  // One poll of an operation: closer to its end; at the end the resource takes its new state.
  void advance(ArmDoubleOperation& op) {
    if (op.done() || op.polls_left < 0) return;
    if (op.polls_left > 0) {
      --op.polls_left;
      op.percent = std::min(90, op.percent + 30);
      return;
    }
    json& r = resource(op.pool);
    json& p = r["properties"];
    stamp(r);
    const bool whole_arc_cluster = options.aks_arc && op.pool.empty();
    if (op.end != OperationEnd::kSucceed) {
      op.status = op.end == OperationEnd::kFail ? "Failed" : "Canceled";
      p["provisioningState"] = op.status;
      if (whole_arc_cluster) {
        for (auto& [name, pool] : pools) pool["properties"]["provisioningState"] = op.status;
      }
      return;
    }
    op.status = "Succeeded";
    op.percent = 100;
    if (op.kind == "Deleting") {
      pools.erase(op.pool);
      if (pool_deleted) pool_deleted(op.pool);
      return;
    }
    p["provisioningState"] = "Succeeded";
    if (op.kind == "Creating") {
      p["currentOrchestratorVersion"] = op.target;
      p["nodeImageVersion"] = options.latest_node_image;
      if (pool_created) pool_created(op.pool, r);
    } else if (op.kind == "UpgradingNodeImageVersion") {
      p["nodeImageVersion"] = op.target;
    } else if (op.kind == "Updating") {
      p["autoUpgradeProfile"]["upgradeChannel"] = op.target;
    } else if (whole_arc_cluster) {
      // AKS Arc upgrades the control plane, then every pool: a pool's kubernetesVersion is the instance's.
      p["status"]["currentState"] = "Succeeded";
      for (auto& [name, pool] : pools) {
        pool["properties"]["kubernetesVersion"] = op.target;
        pool["properties"]["provisioningState"] = "Succeeded";
      }
    } else if (op.pool.empty()) {
      p["currentKubernetesVersion"] = op.target;
    } else {
      p["currentOrchestratorVersion"] = op.target;
      p["nodeImageVersion"] = options.latest_node_image;
    }
    if (upgraded && op.kind != "Creating" && op.kind != "Updating") upgraded(op.pool, r);
  }

  // A GET of the managed cluster shows every pool too (agentPoolProfiles), so it moves every operation; a GET of
  // a pool moves that pool's, and (AKS Arc) the instance's, which upgrades every pool.
  void advance_on(const std::string& pool) {
    for (auto& [id, op] : operations) {
      if (pool.empty() || op.pool == pool || (options.aks_arc && op.pool.empty())) advance(op);
    }
  }

  std::string begin(const std::string& pool, const std::string& kind, const std::string& target) {
    std::string id = "op-" + std::to_string(next_operation++);
    ArmDoubleOperation op;
    op.pool = pool;
    op.kind = kind;
    op.target = target;
    op.end = end;
    op.code = end_code;
    op.message = end_message;
    op.polls_left = end == OperationEnd::kHang ? -1 : options.polls_to_finish;
    operations[id] = op;
    json& r = resource(pool);
    r["properties"]["provisioningState"] = kind;
    stamp(r);
    if (options.aks_arc && pool.empty()) {
      for (auto& [name, p] : pools) p["properties"]["provisioningState"] = kind;
    }
    return id;
  }

  http::Headers accepted_headers(const std::string& id, const std::string& base) const {
    const std::string ops = base + "/subscriptions/" + options.subscription +
                            "/providers/Microsoft.ContainerService/locations/" + options.location;
    http::Headers h;
    if (location_only) {
      h["location"] = ops + "/operationresults/" + id + "?api-version=2016-03-30";
    } else {
      h["azure-asyncoperation"] = ops + "/operations/" + id + "?api-version=2016-03-30";
    }
    if (!options.retry_after.empty()) h["retry-after"] = options.retry_after;
    return h;
  }

  http::Response accepted(const std::string& id, int status, const json& body, const std::string& base) const {
    return reply(location_only ? 202 : status, body, accepted_headers(id, base));
  }

  // A write's common refusals: an operation in flight, a scripted 409, a stale If-Match.
  std::optional<http::Response> refuse_write(const http::Request& req, const json& current) {
    if (busy > 0) {
      --busy;
      return arm_fault(409, "OperationNotAllowed",
                       "Operation is not allowed: Another operation (Updating) is in progress, please wait for it to "
                       "finish before starting a new operation.");
    }
    if (in_flight()) {
      advance_on("");  // the operation in the way runs on its own in Azure: time passes between attempts
      return arm_fault(409, "OperationNotAllowed",
                       "Operation is not allowed because there's an in progress upgrade managed cluster operation "
                       "on the managed cluster started at 2026-01-01T00:00:00Z.");
    }
    const std::string* if_match = req.header("if-match");
    if (if_match && (stale > 0 || *if_match != current.value("eTag", ""))) {
      if (stale > 0) --stale;
      return arm_fault(412, "PreconditionFailed",
                       "Operation failed as the If-Match header does not match the resource's eTag.");
    }
    return std::nullopt;
  }

  http::Response token(const http::Request& req) {
    ++token_requests;
    auto form = parse_query_string(req.body);
    const std::string* ct = req.header("content-type");
    if (!ct || ct->rfind("application/x-www-form-urlencoded", 0) != 0 || form["grant_type"] != "client_credentials" ||
        form["scope"].empty() ||
        form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return reply(400, {{"error", "invalid_request"},
                         {"error_description",
                          "AADSTS900144: The request body must contain the following parameter: "
                          "'grant_type'."},
                         {"error_codes", {900144}}});
    }
    if (form["scope"] != "https://management.azure.com/.default") {
      return reply(400, {{"error", "invalid_scope"},
                         {"error_description",
                          "AADSTS70011: The provided value for the "
                          "input parameter 'scope' is not valid."}});
    }
    if (refuse || form["client_id"] != options.client_id || form["client_assertion"] != options.federated_token) {
      return reply(401, {{"error", "invalid_client"},
                         {"error_description",
                          "AADSTS700213: No matching federated identity record found for presented assertion subject "
                          "'system:serviceaccount:fleet-system:fleet-agent'."},
                         {"error_codes", {700213}}});
    }
    const std::string t = "arm-token-" + std::to_string(revoked + static_cast<int>(issued_tokens.size()) + 1);
    issued_tokens.insert(t);
    return reply(200, {{"token_type", "Bearer"},
                       {"expires_in", options.expires_in},
                       {"ext_expires_in", options.expires_in},
                       {"access_token", t}});
  }

  http::Response operation(const std::vector<std::string>& parts, const std::string& base) {
    auto it = operations.find(parts[7]);
    if (it == operations.end()) return arm_fault(404, "NotFound", "operation " + parts[7] + " not found");
    ArmDoubleOperation& op = it->second;
    advance(op);
    if (parts[6] == "operationresults") {
      if (!op.done()) return reply(202, nullptr, accepted_headers(it->first, base));
      if (op.status == "Succeeded") return reply(204, nullptr);
      return arm_fault(400, op.code, op.message);
    }
    json body = {{"id", "/subscriptions/" + options.subscription + "/providers/Microsoft.ContainerService/locations/" +
                            options.location + "/operations/" + it->first},
                 {"name", it->first},
                 {"status", op.status},
                 {"startTime", "2026-01-01T00:00:00Z"},
                 {"percentComplete", op.percent}};
    if (op.done()) body["endTime"] = "2026-01-01T00:10:00Z";
    if (op.status == "Failed" || op.status == "Canceled") {
      body["error"] = {{"code", op.code}, {"message", op.message}};
    }
    http::Headers h;
    if (!op.done() && !options.retry_after.empty()) h["retry-after"] = options.retry_after;
    return reply(200, body, h);
  }

  // AKS Arc: the provisioned cluster instance, whose kubernetesVersion is every pool's.
  http::Response put_arc_cluster(const http::Request& req, const std::string& base) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body["extendedLocation"].is_object() || !body["properties"].is_object() ||
        !body["properties"]["kubernetesVersion"].is_string()) {
      return arm_fault(400, "InvalidParameter", "The request body is not a provisioned cluster instance.");
    }
    for (const json& profile : body["properties"].value("agentPoolProfiles", json::array())) {
      if (profile.contains("kubernetesVersion") || profile.contains("status")) {
        return arm_fault(400, "InvalidParameter",
                         "agentPoolProfiles[].kubernetesVersion and status are read-only: a pool runs the "
                         "provisioned cluster's version.");
      }
    }
    if (auto refused = refuse_write(req, cluster)) return *refused;
    const std::string version = body["properties"]["kubernetesVersion"];
    json& cp = cluster["properties"];
    if (version != cp.value("kubernetesVersion", "")) {
      cp["kubernetesVersion"] = version;
      return accepted(begin("", "Upgrading", version), 200, cluster_view(), base);
    }
    return reply(200, cluster_view());
  }

  http::Response put_cluster(const http::Request& req, const std::string& base) {
    if (options.aks_arc) return put_arc_cluster(req, base);
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("location") || !body["properties"].is_object() ||
        !body["properties"]["kubernetesVersion"].is_string()) {
      return arm_fault(400, "InvalidParameter", "The request body is not a managed cluster.");
    }
    if (auto refused = refuse_write(req, cluster)) return *refused;
    const json& p = body["properties"];
    const std::string version = p["kubernetesVersion"];
    const std::string channel = p.value("/autoUpgradeProfile/upgradeChannel"_json_pointer, std::string("none"));
    json& cp = cluster["properties"];
    if (version != cp.value("kubernetesVersion", "")) {
      cp["kubernetesVersion"] = version;
      return accepted(begin("", "Upgrading", version), 200, cluster_view(), base);
    }
    if (channel != cp.value("/autoUpgradeProfile/upgradeChannel"_json_pointer, std::string("none"))) {
      return accepted(begin("", "Updating", channel), 200, cluster_view(), base);
    }
    return reply(200, cluster_view());
  }

  // A pool that does not exist is created from the body (blue-green's new pool): what AKS needs of a create.
  http::Response create_pool(const http::Request& req, const std::string& name, const std::string& base) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body["properties"].is_object() ||
        !body["properties"]["orchestratorVersion"].is_string() || !body["properties"]["vmSize"].is_string() ||
        !body["properties"]["count"].is_number_integer() || !body["properties"]["mode"].is_string()) {
      return arm_fault(400, "InvalidParameter", "The request body is not an agent pool to create.");
    }
    for (const char* read_only : {"provisioningState", "currentOrchestratorVersion", "powerState"}) {
      if (body["properties"].contains(read_only)) {
        return arm_fault(400, "InvalidParameter", std::string("properties.") + read_only + " is read-only.");
      }
    }
    if (auto refused = refuse_write(req, json::object())) return *refused;
    json pool = body;
    pool["id"] = cluster_path() + "/agentPools/" + name;
    pool["name"] = name;
    pool["type"] = "Microsoft.ContainerService/managedClusters/agentPools";
    pool["properties"]["powerState"] = {{"code", "Running"}};
    pools[name] = pool;
    const std::string version = body["properties"]["orchestratorVersion"];
    return accepted(begin(name, "Creating", version), 201, pools[name], base);
  }

  http::Response delete_pool(const http::Request& req, const std::string& name, const std::string& base) {
    auto it = pools.find(name);
    if (it == pools.end()) return reply(204, nullptr);
    if (auto refused = refuse_write(req, it->second)) return *refused;
    const std::string id = begin(name, "Deleting", "");
    return reply(202, nullptr, accepted_headers(id, base));
  }

  http::Response put_pool(const http::Request& req, const std::string& name, const std::string& base) {
    auto it = pools.find(name);
    if (it == pools.end()) return create_pool(req, name, base);
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body["properties"].is_object() ||
        !body["properties"]["orchestratorVersion"].is_string()) {
      return arm_fault(400, "InvalidParameter", "The request body is not an agent pool.");
    }
    if (auto refused = refuse_write(req, it->second)) return *refused;
    json& p = it->second["properties"];
    const json& want = body["properties"];
    if (want.contains("upgradeSettings")) p["upgradeSettings"] = want["upgradeSettings"];
    const std::string version = want["orchestratorVersion"];
    if (version != p.value("orchestratorVersion", "")) {
      p["orchestratorVersion"] = version;
      return accepted(begin(name, "Upgrading", version), 200, it->second, base);
    }
    return reply(200, it->second);
  }

  http::Response handle(const http::Request& req) {
    const auto q = req.target.find('?');
    const std::string path = req.target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
    const auto header = [&](const char* n) { return req.header(n) ? *req.header(n) : std::string(); };
    requests.push_back(ArmRecordedRequest{req.method, path, query, header("authorization"), header("if-match"),
                                          header("content-type"), req.body});
    const std::string base = "https://" + server->bound_address();
    const auto parts = split_decoded_path(path);
    if (req.method == "POST" && parts.size() == 4 && parts[1] == "oauth2" && parts[3] == "token") {
      if (parts[0] != options.tenant_id) {
        return reply(400, {{"error", "invalid_tenant"}, {"error_description", "AADSTS90002: Tenant not found."}});
      }
      return token(req);
    }
    const std::string auth = header("authorization");
    if (auth.rfind("Bearer ", 0) != 0 || !issued_tokens.count(auth.substr(7))) {
      return arm_fault(401, "InvalidAuthenticationToken", "The access token is invalid.");
    }
    if (query.find("api-version=") == std::string::npos) {
      return arm_fault(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required.");
    }
    if (parts.size() == 8 && parts[2] == "providers" && parts[5] == options.location &&
        (parts[6] == "operations" || parts[6] == "operationresults") && req.method == "GET") {
      return operation(parts, base);
    }
    if (path.rfind(cluster_path(), 0) != 0) return arm_fault(404, "ResourceNotFound", "The resource was not found.");
    const auto rest = split_decoded_path(path.substr(cluster_path().size()));
    if (rest.empty()) {
      if (req.method == "GET") {
        advance_on("");
        return reply(200, cluster_view(), etag_header(cluster));
      }
      if (req.method == "PUT") return put_cluster(req, base);
    }
    if (rest.size() == 2 && rest[0] == "maintenanceConfigurations" && req.method == "GET") {
      auto it = maintenance.find(rest[1]);
      if (it == maintenance.end()) {
        return arm_fault(404, "NotFound", "maintenance configuration " + rest[1] + " not found");
      }
      return reply(200, it->second);
    }
    if (rest.size() >= 2 && rest[0] == "agentPools") {
      if (rest.size() == 2 && req.method == "PUT") return put_pool(req, rest[1], base);
      if (rest.size() == 2 && req.method == "DELETE") return delete_pool(req, rest[1], base);
      if (rest.size() == 2 && req.method == "GET") advance_on(rest[1]);  // a delete that ends here removes it
      auto it = pools.find(rest[1]);
      if (it == pools.end()) return arm_fault(404, "NotFound", "agent pool " + rest[1] + " not found");
      if (rest.size() == 2 && req.method == "GET") return reply(200, it->second, etag_header(it->second));
      if (rest.size() == 3 && rest[2] == "upgradeNodeImageVersion" && req.method == "POST") {
        if (auto refused = refuse_write(req, it->second)) return *refused;
        const std::string id = begin(rest[1], "UpgradingNodeImageVersion", options.latest_node_image);
        return accepted(id, 202, it->second, base);
      }
    }
    return arm_fault(405, "MethodNotAllowed", "The requested method is not allowed for this resource.");
  }
};

Result<std::unique_ptr<ArmApiDouble>> ArmApiDouble::start(ArmApiDoubleOptions options) {
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return make_error(ErrorCode::kInvalid, "the ARM double needs a TLS certificate and key");
  }
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  State* s = state.get();
  const ArmApiDoubleOptions& o = s->options;
  if (o.aks_arc) {
    s->cluster = {{"id", s->cluster_path()},
                  {"name", "default"},
                  {"type", "microsoft.hybridcontainerservice/provisionedclusterinstances"},
                  {"extendedLocation",
                   {{"type", "CustomLocation"},
                    {"name", "/subscriptions/" + o.subscription + "/resourceGroups/" + o.resource_group +
                                 "/providers/Microsoft.ExtendedLocation/customLocations/azlocal-cl"}}},
                  {"properties",
                   {{"provisioningState", "Succeeded"},
                    {"kubernetesVersion", o.kubernetes_version},
                    {"controlPlane", {{"count", 1}, {"vmSize", "Standard_A4_v2"}}},
                    {"networkProfile", {{"networkPolicy", "calico"}, {"podCidr", "10.244.0.0/16"}}},
                    {"status", {{"currentState", "Succeeded"}}}}}};
  } else {
    s->cluster = {{"id", s->cluster_path()},
                  {"name", o.cluster},
                  {"type", "Microsoft.ContainerService/ManagedClusters"},
                  {"location", o.location},
                  {"eTag", "\"" + std::to_string(s->next_etag++) + "\""},
                  {"properties",
                   {{"provisioningState", "Succeeded"},
                    {"powerState", {{"code", "Running"}}},
                    {"kubernetesVersion", o.kubernetes_version},
                    {"currentKubernetesVersion", o.kubernetes_version},
                    {"dnsPrefix", o.cluster},
                    {"fqdn", o.cluster + "-dns.hcp." + o.location + ".azmk8s.io"},
                    {"enableRBAC", true},
                    {"autoUpgradeProfile", {{"upgradeChannel", "none"}, {"nodeOSUpgradeChannel", "NodeImage"}}}}}};
  }
  http::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.threads = 2;
  so.tls_cert_file = o.tls_cert_file;
  so.tls_key_file = o.tls_key_file;
  auto server = http::Server::create(so, [s](const http::Request& req, const http::Respond& respond) {
    http::Response r;
    {
      std::lock_guard lock(s->mutex);
      r = s->handle(req);
    }
    respond(std::move(r));
  });
  if (!server) return server.error();
  s->server = std::move(*server);
  s->thread = std::thread([s] { s->server->run(); });
  return std::unique_ptr<ArmApiDouble>(new ArmApiDouble(std::move(state)));
}

ArmApiDouble::ArmApiDouble(std::unique_ptr<State> state) : state_(std::move(state)) {}

ArmApiDouble::~ArmApiDouble() {
  state_->server->shutdown(std::chrono::milliseconds(200));
  state_->thread.join();
}

std::string ArmApiDouble::url() const {
  return "https://" + state_->server->bound_address();
}

std::string ArmApiDouble::cluster_id() const {
  return state_->cluster_id();
}

const ArmApiDoubleOptions& ArmApiDouble::options() const {
  return state_->options;
}

void ArmApiDouble::add_pool(const std::string& name, const std::string& version, int count,
                            const std::string& node_image) {
  std::lock_guard lock(state_->mutex);
  json& pool = state_->pools[name];
  if (state_->options.aks_arc) {
    // AKS Arc's agentPool: its kubernetesVersion is the provisioned cluster's (read-only).
    pool = {{"id", state_->cluster_path() + "/agentPools/" + name},
            {"name", name},
            {"type", "microsoft.hybridcontainerservice/provisionedclusterinstances/agentpools"},
            {"properties",
             {{"count", count},
              {"vmSize", "Standard_NC16_A16"},
              {"osType", "Linux"},
              {"osSKU", "CBLMariner"},
              {"kubernetesVersion", version},
              {"provisioningState", "Succeeded"},
              {"status", {{"currentState", "Succeeded"}, {"readyReplicas", json::array({{{"count", count}}})}}}}}};
    return;
  }
  pool = {{"id", state_->cluster_path() + "/agentPools/" + name},
          {"name", name},
          {"type", "Microsoft.ContainerService/managedClusters/agentPools"},
          {"properties",
           {{"count", count},
            {"vmSize", "Standard_ND96isr_H100_v5"},
            {"osType", "Linux"},
            {"mode", name == "system" ? "System" : "User"},
            {"type", "VirtualMachineScaleSets"},
            {"provisioningState", "Succeeded"},
            {"powerState", {{"code", "Running"}}},
            {"orchestratorVersion", version},
            {"currentOrchestratorVersion", version},
            {"nodeImageVersion", node_image},
            {"upgradeSettings", {{"maxSurge", "10%"}}}}}};
  state_->stamp(pool);
}

void ArmApiDouble::set_auto_upgrade_channel(const std::string& channel) {
  std::lock_guard lock(state_->mutex);
  state_->cluster["properties"]["autoUpgradeProfile"]["upgradeChannel"] = channel;
}

nlohmann::json ArmApiDouble::managed_cluster() const {
  std::lock_guard lock(state_->mutex);
  return state_->cluster_view();
}

std::optional<nlohmann::json> ArmApiDouble::pool(const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->pools.find(name);
  if (it == state_->pools.end()) return std::nullopt;
  return it->second;
}

void ArmApiDouble::refuse_tokens(bool refuse) {
  std::lock_guard lock(state_->mutex);
  state_->refuse = refuse;
}

void ArmApiDouble::revoke_tokens() {
  std::lock_guard lock(state_->mutex);
  state_->revoked += static_cast<int>(state_->issued_tokens.size());
  state_->issued_tokens.clear();
}

void ArmApiDouble::busy_next_writes(int count) {
  std::lock_guard lock(state_->mutex);
  state_->busy = count;
}

void ArmApiDouble::stale_next_writes(int count) {
  std::lock_guard lock(state_->mutex);
  state_->stale = count;
}

void ArmApiDouble::end_operations_with(OperationEnd end, std::string code, std::string message) {
  std::lock_guard lock(state_->mutex);
  state_->end = end;
  state_->end_code = std::move(code);
  state_->end_message = std::move(message);
}

void ArmApiDouble::location_only(bool on) {
  std::lock_guard lock(state_->mutex);
  state_->location_only = on;
}

void ArmApiDouble::release_hung_operations(int polls) {
  std::lock_guard lock(state_->mutex);
  state_->end = OperationEnd::kSucceed;
  for (auto& [id, op] : state_->operations) {
    if (op.done() || op.polls_left >= 0) continue;
    op.end = OperationEnd::kSucceed;
    op.polls_left = polls;
  }
}

void ArmApiDouble::start_operation(const std::string& pool, const std::string& target) {
  std::lock_guard lock(state_->mutex);
  json& p = state_->resource(pool)["properties"];
  p[pool.empty() ? "kubernetesVersion" : "orchestratorVersion"] = target;
  state_->begin(pool, "Upgrading", target);
}

void ArmApiDouble::on_pool_created(std::function<void(const std::string&, const nlohmann::json&)> hook) {
  std::lock_guard lock(state_->mutex);
  state_->pool_created = std::move(hook);
}

void ArmApiDouble::on_pool_deleted(std::function<void(const std::string&)> hook) {
  std::lock_guard lock(state_->mutex);
  state_->pool_deleted = std::move(hook);
}

void ArmApiDouble::on_upgraded(std::function<void(const std::string&, const nlohmann::json&)> hook) {
  std::lock_guard lock(state_->mutex);
  state_->upgraded = std::move(hook);
}

void ArmApiDouble::set_maintenance_configuration(const std::string& name, const nlohmann::json& maintenance_window) {
  std::lock_guard lock(state_->mutex);
  state_->maintenance[name] = {{"id", state_->cluster_path() + "/maintenanceConfigurations/" + name},
                               {"name", name},
                               {"type", "Microsoft.ContainerService/managedClusters/maintenanceConfigurations"},
                               {"properties", {{"maintenanceWindow", maintenance_window}}}};
}

std::vector<ArmRecordedRequest> ArmApiDouble::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

int ArmApiDouble::count(const std::string& method, const std::string& path_part) const {
  std::lock_guard lock(state_->mutex);
  return static_cast<int>(std::count_if(state_->requests.begin(), state_->requests.end(), [&](const auto& r) {
    return r.method == method && r.path.find(path_part) != std::string::npos;
  }));
}

int ArmApiDouble::token_requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->token_requests;
}

}  // namespace fleet::agent::kube::testing
