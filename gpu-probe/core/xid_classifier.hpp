#pragma once
#include <cstdint>
#include <string_view>

namespace fleet::gpuprobe {

// What an XID seen during the probe means for admission. Classes follow NVIDIA's XID catalogue
// (docs.nvidia.com/deploy/xid-errors) as used by fleet operators: memory/NVLink/fallen-off-bus errors drain the node,
// row-remap events want a GPU reset and a second probe, and errors usually caused by an application only warn.
enum class XidClass {
  kDrain,         // 48 DBE, 64 remap failure, 74 NVLink, 79 fallen off bus, 92 high SBE rate, 95 uncontained ECC,
                  // 119/120 GSP errors, 140 unrecovered ECC
  kResetReprobe,  // 63 row-remap pending (A100+ / page retirement pending before), 94 contained ECC error
  kWarn,          // 13 graphics engine exception, 31 MMU fault, 43 reset channel, 45 preemptive cleanup, 54-62
  kUnknown,       // not in the table: reported as a warning so that nothing is silently ignored
};

XidClass classify_xid(std::uint64_t xid);
std::string_view to_string(XidClass c);

}  // namespace fleet::gpuprobe
