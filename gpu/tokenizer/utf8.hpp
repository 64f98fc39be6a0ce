#pragma once

#include <cstddef>

namespace troupe::gpu {

/// Length of the UTF-8 sequence led by byte `c` (1 for a stray byte, so
/// walking broken text always advances).
inline size_t utf8_len(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
}

} // namespace troupe::gpu
