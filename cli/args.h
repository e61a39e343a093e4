// A small, strict argument reader for the subcommands: flags are declared, anything else is a
// usage error (exit 2) that names the offending word.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oq/error.h"
#include "oq/serialize.h"  // every command prints its JSON through this

namespace oq::cli {

struct UsageError {
  std::string message;
};

class Args {
 public:
  // value_flags take a value ("--series UID" or "--series=UID"); switches do not.
  Args(int argc, char** argv, int first, const std::set<std::string>& value_flags, const std::set<std::string>& switches);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool has(const std::string& flag) const { return values_.count(flag) > 0; }
  std::string get(const std::string& flag, const std::string& fallback = {}) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

// Numbers from the command line: the whole token must be a plain decimal number (no hex, no
// leading space, no trailing letters), finite, and within [lo, hi]; otherwise nothing, and the
// caller names the flag and the range. NaN, inf and 1e999 never reach a computation.
std::optional<double> parse_number(const std::string& token, double lo, double hi);
std::optional<long long> parse_integer(const std::string& token, long long lo, long long hi);
// `count` comma-separated numbers, each as parse_number.
std::optional<std::vector<double>> parse_numbers(const std::string& token, std::size_t count, double lo, double hi);

// A JSON input file (a case, ROI, stain vectors, lesion list), bounded in size and read strictly
// (oq/json_input.h); errors name the file.
Result<nlohmann::json> read_json_file(const std::string& path);

// Prints "error: <text>" on stderr and returns 1 (input could not be processed).
int fail(const std::string& text);
// Prints "usage error: <text>" and the hint, returns 2.
int usage_fail(const std::string& text, const char* usage);

}  // namespace oq::cli
