#include "fleetd/http/database_job.hpp"

#include <utility>

#include "fleetd/http/responses.hpp"

namespace fleet {

void run_on_database(DbPool& pool, const std::shared_ptr<Call>& call, const http::Respond& respond,
                     std::function<void(pqxx::connection_base&)> run) {
  DbJob job;
  job.run = std::move(run);
  job.fail = [call, respond](const DbFailure& failure) { respond(failure_response(*call, failure)); };
  job.request_id = call->req.request_id;
  if (!pool.submit(std::move(job))) {
    respond(failure_response(
        *call, {DbFailure::Kind::kOverloaded, "fleetd is overloaded: too many requests are waiting for the database"}));
  }
}

}  // namespace fleet
