#pragma once
// How staged upgrades look on a terminal (issue #12): plans, a run's status (per-stage progress bars and
// per-cluster lines), events, and the `get rollouts` / `get strategies` tables. Input is the server's JSON, read
// tolerantly: a missing field shows as "-" or <none>, never an exception.
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::ctl {

// 45 → "45s", 750 → "12m30s", 5400 → "1h30m", 93600 → "1d2h". A missing or negative estimate → "-".
std::string estimate_text(const nlohmann::json& seconds);

// "[#####-----] 12/20": ten cells, filled in proportion (rounded down).
std::string progress_bar(long done, long total);

// "Full 1.32.7", "ControlPlaneOnly 1.32.7", "NodeImageOnly Latest", "NodeImageOnly AKSUbuntu-2204…" (Custom).
std::string target_text(const nlohmann::json& target);

// NAME STATE TARGET PROGRESS FAILED AGE (PROGRESS is succeeded/total); wide adds STRATEGY MESSAGE.
std::string rollouts_table(const std::vector<nlohmann::json>& rollouts, bool wide,
                           std::chrono::system_clock::time_point now);

// NAME STAGES AGE, STAGES being the stage names in order.
std::string strategies_table(const std::vector<nlohmann::json>& strategies, std::chrono::system_clock::time_point now);
// NAME CHANNEL STRATEGY ENABLED SELECTED LAST-RUN AGE, and ERROR when a profile's due run could not be created
// (one word: see the profile for the message).
std::string auto_upgrade_profiles_table(const std::vector<nlohmann::json>& profiles,
                                        std::chrono::system_clock::time_point now);

// AT SCOPE NAME FROM TO MESSAGE.
std::string events_table(const std::vector<nlohmann::json>& events);

// The plan of POST /v1/rollouts:plan: target, approvals and warnings; per stage a header line and a table
// CLUSTER GROUP FROM TO STEPS ESTIMATE (a skipped cluster shows why instead of an estimate); then the clusters no
// stage selects and the total estimate.
std::string plan_text(const nlohmann::json& plan);

// One line of a run's status. `key` names what the line is about ("state", "member:waves/aks-1"), so that a watch
// that cannot redraw (no TTY) prints only the lines whose content changed.
struct StatusLine {
  std::string key;
  std::string text;
};

// Name, state, message, target, strategy, times, counts, ETA, gates; per stage a line with its state and a
// progress bar, then per member CLUSTER STATE STEP ETA/MESSAGE. Depends only on the run, not on the time, so a
// watch reprints nothing while the run does not change.
std::vector<StatusLine> rollout_status_lines(const nlohmann::json& rollout);
std::string join_lines(const std::vector<StatusLine>& lines);

}  // namespace fleet::ctl
