#include "gpu-probe/core/xid_classifier.hpp"

namespace fleet::gpuprobe {

XidClass classify_xid(std::uint64_t xid) {
  switch (xid) {
    case 48:
    case 64:
    case 74:
    case 79:
    case 92:
    case 95:
    case 119:
    case 120:
    case 140:
      return XidClass::kDrain;
    case 63:
    case 94:
      return XidClass::kResetReprobe;
    case 13:
    case 31:
    case 43:
    case 45:
      return XidClass::kWarn;
    default:
      break;
  }
  if (xid >= 54 && xid <= 62) return XidClass::kWarn;
  return XidClass::kUnknown;
}

std::string_view to_string(XidClass c) {
  switch (c) {
    case XidClass::kDrain:
      return "drain";
    case XidClass::kResetReprobe:
      return "reset-then-reprobe";
    case XidClass::kWarn:
      return "warn";
    case XidClass::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace fleet::gpuprobe
