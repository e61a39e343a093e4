// JSON that people and other tools wrote (RECIST cases, ROIs, stain vectors), read strictly: a file
// that is endless (/dev/zero) or huge is refused before it fills memory; a number beyond double
// range, a key given twice in one object (which value did the author mean?) or absurd nesting is
// an error naming the file and where in it, never an exception.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "oq/error.h"

namespace oq {

constexpr std::size_t kMaxJsonInputBytes = std::size_t{64} << 20;

// The bytes of a small input file (a regular file, pipe or device); at most `max_bytes`.
Result<std::string> read_small_file(const std::string& path, std::size_t max_bytes = kMaxJsonInputBytes);

// Parses `text`; errors name `source` and the JSON path ("$.baseline.lesions[0].id").
Result<nlohmann::json> parse_json_strictly(const std::string& text, const std::string& source);

}  // namespace oq
