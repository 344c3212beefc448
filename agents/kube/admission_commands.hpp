#pragma once
// run_probe and set_node_admission on the kubernetes backend: what the admission machine is asked, and when a
// run_probe is done. As in the sim: run_probe asks the machine to probe each node (a probe already pending or
// running answers too) and finishes when every node is admitted or quarantined by a probe that started after the
// command; set_node_admission is the operator's word, carried out at once.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agents/kube/node_admission_runner.hpp"
#include "common/error.hpp"
#include "protocol/command_status.hpp"

namespace fleet::agent::kube {

// The nodes a command is about: `nodes` for run_probe (nullopt → every GPU node the machine knows), else `node`.
// kNotFound for an unknown node, kInvalid for one without GPUs, naming the payload field.
Result<std::vector<std::string>> admission_command_nodes(const NodeAdmissionRunner& runner, bool run_probe,
                                                         const std::optional<std::vector<std::string>>& nodes,
                                                         const std::string& node);

// run_probe: asks for each node's probe and returns the probe count each node's answer must exceed.
Result<std::map<std::string, int, std::less<>>> request_probes(NodeAdmissionRunner& runner,
                                                               const std::vector<std::string>& nodes);

// run_probe: marks the nodes whose answer came (details: admitted | quarantined | deleted, nodes_done,
// nodes_failed); true, with state and message set, once every node has one.
bool settle_run_probe(const NodeAdmissionRunner& runner, const std::map<std::string, int, std::less<>>& probes_before,
                      protocol::CommandStatus& status);

}  // namespace fleet::agent::kube
