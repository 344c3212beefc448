#pragma once
// Requests that each need one short transaction, gathered into batches: one database job and one transaction (so
// one commit, one WAL flush) for up to `max_batch` of them. A decision that starts a step on 300 clusters wakes 300
// command polls at once, and 300 agents report the step's end at about the same instant; a job each queued them
// behind one another on the pool's few workers (issue #12, 1,000 clusters upgrading).
//
// At most `max_jobs` batch jobs are out at once. A job takes its items when it starts running, not when it is
// queued, so the items added while it waited for a worker go with it. Two items with the same key never share a
// batch (the second waits for the next): a cluster's second poll, say, must see what the first claimed.
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fleetd/db/db_pool.hpp"

namespace fleet {

template <class Item>
class BatchedDbJobs : public std::enable_shared_from_this<BatchedDbJobs<Item>> {
 public:
  struct Options {
    std::size_t max_batch = 64;
    int max_jobs = 4;
    std::string request_id;  // the log line of a failed job names it
  };
  // Runs on a database worker. As any DbJob's run: it may run again with the same batch after a serialization
  // failure, so it answers nothing before its transaction commits.
  using RunBatch = std::function<void(pqxx::connection_base&, const std::vector<Item>&)>;
  // A batch's job that cannot run or complete (or is refused by a full pool) fails each of its items with this.
  using FailItem = std::function<void(const Item&, const DbFailure&)>;
  using KeyOf = std::function<std::string(const Item&)>;

  static std::shared_ptr<BatchedDbJobs> create(DbPool& pool, Options options, KeyOf key, RunBatch run, FailItem fail) {
    return std::shared_ptr<BatchedDbJobs>(
        new BatchedDbJobs(pool, std::move(options), std::move(key), std::move(run), std::move(fail)));
  }

  // Queues `item`: the next batch job to start takes it; a new job when fewer than max_jobs are out.
  void add(Item item) {
    {
      std::lock_guard lock(mutex_);
      waiting_.push_back(std::move(item));
      if (jobs_ >= options_.max_jobs) return;
      ++jobs_;
    }
    submit();
  }

 private:
  BatchedDbJobs(DbPool& pool, Options options, KeyOf key, RunBatch run, FailItem fail)
      : pool_(pool), options_(std::move(options)), key_(std::move(key)), run_(std::move(run)), fail_(std::move(fail)) {}

  // The next batch: the oldest items, at most one per key.
  std::vector<Item> take() {
    std::vector<Item> batch;
    std::set<std::string, std::less<>> keys;
    std::lock_guard lock(mutex_);
    for (auto it = waiting_.begin(); it != waiting_.end() && batch.size() < options_.max_batch;) {
      if (!keys.insert(key_(*it)).second) {
        ++it;
        continue;
      }
      batch.push_back(std::move(*it));
      it = waiting_.erase(it);
    }
    return batch;
  }

  // After a batch job: another for the items that queued meanwhile, or one job fewer out.
  void job_done() {
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) {
        --jobs_;
        return;
      }
    }
    submit();
  }

  void submit() {
    struct Taken {
      bool done = false;  // a job run again after a serialization failure keeps the batch it took
      std::vector<Item> items;
    };
    auto self = this->shared_from_this();
    auto taken = std::make_shared<Taken>();
    auto take = [self, taken]() -> const std::vector<Item>& {
      if (!taken->done) {
        taken->items = self->take();
        taken->done = true;
      }
      return taken->items;
    };
    DbJob job;
    job.run = [self, take](pqxx::connection_base& conn) {
      const auto& batch = take();
      if (!batch.empty()) self->run_(conn, batch);
      self->job_done();
    };
    job.fail = [self, take](const DbFailure& failure) {
      for (const auto& item : take()) self->fail_(item, failure);
      self->job_done();
    };
    job.request_id = options_.request_id;
    if (pool_.submit(std::move(job))) return;
    // The pool's queue is full: the items waiting are refused (the agents retry).
    std::deque<Item> refused;
    {
      std::lock_guard lock(mutex_);
      refused.swap(waiting_);
      --jobs_;
    }
    const DbFailure overloaded{DbFailure::Kind::kOverloaded,
                               "fleetd is overloaded: too many requests are waiting for the database"};
    for (const auto& item : refused) fail_(item, overloaded);
  }

  DbPool& pool_;
  const Options options_;
  const KeyOf key_;
  const RunBatch run_;
  const FailItem fail_;
  std::mutex mutex_;
  std::deque<Item> waiting_;
  int jobs_ = 0;  // batch jobs queued or running
};

}  // namespace fleet
