#pragma once
// Byte units for the placement core's arithmetic and text. The tests have an integer kGiB of their own.

namespace fleet::placement {

inline constexpr double kBytesPerGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace fleet::placement
