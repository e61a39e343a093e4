// The PET header values the SUV rules read (specs/suv.md), as a hostile file could set them:
// strings for dates, times, units and sex, numbers of any size or sign, NaN and infinities, up to
// 64 frames. The factors must be finite and positive or absent with a reason.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "oq/pet/suv.h"

namespace {

std::optional<double> maybe_number(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0:
      return std::nullopt;
    case 1:
      return in.ConsumeFloatingPoint<double>();
    case 2:
      return in.ConsumeFloatingPointInRange<double>(-1e4, 1e10);
    case 3:
      return std::nan("");
    default:
      return in.ConsumeBool() ? HUGE_VAL : -HUGE_VAL;
  }
}

std::string text(FuzzedDataProvider& in) {
  return in.ConsumeRandomLengthString(24);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  oq::pet::SeriesHeader h;
  h.manufacturer = text(in), h.units = text(in), h.suv_type = text(in), h.decay_correction = text(in);
  h.corrected_image = {text(in), text(in)};
  h.patient_sex = text(in);
  h.weight_kg = maybe_number(in), h.height_m = maybe_number(in), h.total_dose = maybe_number(in);
  h.half_life_s = maybe_number(in);
  h.radionuclide = text(in), h.series_date = text(in), h.series_time = text(in);
  h.injection_time = text(in), h.injection_datetime = text(in), h.ge_scan_datetime = text(in);
  const int frames = in.ConsumeIntegralInRange<int>(0, 64);
  for (int i = 0; i < frames; ++i) {
    oq::pet::FrameHeader f;
    f.acquisition_date = text(in), f.acquisition_time = text(in), f.acquisition_datetime = text(in);
    f.philips_suv_factor = maybe_number(in), f.philips_activity_factor = maybe_number(in);
    f.frame_duration_ms = maybe_number(in), f.frame_reference_ms = maybe_number(in);
    h.frames.push_back(f);
  }
  const oq::pet::SuvFactors s = oq::pet::compute_suv_factors(h);
  auto check = [&](const std::vector<double>& factors, const char* kind) {
    for (const double v : factors)
      if (!(std::isfinite(v) && v > 0)) {  // a factor every voxel would be multiplied by
        std::fprintf(stderr, "%s factor %g: units '%s' weight %g height %g dose %g half-life %g, %zu frames; notes: %s\n", kind,
                     v, h.units.c_str(), h.weight_kg.value_or(-1), h.height_m.value_or(-1), h.total_dose.value_or(-1),
                     h.half_life_s.value_or(-1), h.frames.size(), s.notes.c_str());
        std::abort();
      }
  };
  check(s.bw, "SUVbw");
  check(s.lbm, "SULlbm");
  return 0;
}
