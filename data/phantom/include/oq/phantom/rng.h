// A random number source that gives the same numbers on every machine and standard library.
// std::normal_distribution and friends are implementation-defined, so a phantom generated with
// them could differ between compilers; the demo archive must be byte-for-byte reproducible.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace oq::phantom {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  // A seed for a named sub-stream: each generated object draws from its own stream, so the order
  // in which worker threads build objects cannot change any of them.
  static std::uint64_t derive(std::uint64_t seed, std::string_view label) {
    std::uint64_t h = 1469598103934665603ULL ^ seed;
    for (char c : label) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    return mix(h);
  }

  std::uint64_t next() { return mix(state_ += 0x9E3779B97F4A7C15ULL); }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi_inclusive) {
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi_inclusive - lo + 1));
  }

  // Standard normal, Box-Muller.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 1e-300) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(6.283185307179586 * u2);
    has_spare_ = true;
    return r * std::cos(6.283185307179586 * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }

  // Poisson counts: exact (Knuth) for small means, normal approximation above 30 where the
  // difference is far below what a gamma camera image shows.
  std::uint32_t poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean < 30) {
      const double limit = std::exp(-mean);
      double p = uniform();
      std::uint32_t k = 0;
      while (p > limit) {
        p *= uniform();
        ++k;
      }
      return k;
    }
    const double v = std::floor(mean + std::sqrt(mean) * normal() + 0.5);
    return v < 0 ? 0U : static_cast<std::uint32_t>(v);
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace oq::phantom
