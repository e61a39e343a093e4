#include "args.h"

#include "oq/diagnostics.h"
#include "oq/json_input.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <cstdio>

namespace oq::cli {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& value_flags, const std::set<std::string>& switches) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string value;
      bool inline_value = false;
      if (const auto eq = a.find('='); eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      if (value_flags.count(a)) {
        if (!inline_value) {
          if (i + 1 >= argc) {
            error_ = a + " needs a value";
            return;
          }
          value = argv[++i];
        }
        values_[a] = value;
      } else if (switches.count(a) && !inline_value) {
        values_[a] = "1";
      } else {
        error_ = "unknown option " + a;
        return;
      }
    } else if (a == "-o" && value_flags.count("-o")) {
      if (i + 1 >= argc) {
        error_ = "-o needs a value";
        return;
      }
      values_["-o"] = argv[++i];
    } else {
      positional_.push_back(a);
    }
  }
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second;
}

namespace {

// Digits, one point, an exponent and a leading sign: what a decimal number may hold (strtod would
// also take hex, "inf", "nan" and leading spaces).
bool plain_decimal(const std::string& t) {
  if (t.empty()) return false;
  for (const char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') return false;
  return true;
}

}  // namespace

std::optional<double> parse_number(const std::string& token, double lo, double hi) {
  if (!plain_decimal(token)) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(token.c_str(), &end);
  if (end != token.c_str() + token.size() || errno == ERANGE || !std::isfinite(v) || v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<long long> parse_integer(const std::string& token, long long lo, long long hi) {
  if (token.empty() || token.find_first_not_of("+-0123456789") != std::string::npos) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(token.c_str(), &end, 10);
  if (end != token.c_str() + token.size() || errno == ERANGE || v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<std::vector<double>> parse_numbers(const std::string& token, std::size_t count, double lo, double hi) {
  std::vector<double> out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = token.find(',', from);
    const auto v = parse_number(token.substr(from, comma == std::string::npos ? std::string::npos : comma - from), lo, hi);
    if (!v) return std::nullopt;
    out.push_back(*v);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  if (out.size() != count) return std::nullopt;
  return out;
}

Result<nlohmann::json> read_json_file(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return text.error();
  return parse_json_strictly(*text, path);
}

int fail(const std::string& text) {
  std::fprintf(oq::diag(), "error: %s\n", text.c_str());
  return 1;
}

int usage_fail(const std::string& text, const char* usage) {
  std::fprintf(oq::diag(), "usage error: %s\n%s", text.c_str(), usage);
  return 2;
}

}  // namespace oq::cli
