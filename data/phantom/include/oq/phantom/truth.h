// Ground truth derived from the generator's geometry: RECIST calipers of each lesion on the
// acquired axial planes, volumes, and the expected RECIST 1.1 / iRECIST course per treatment line.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "oq/phantom/patient.h"

namespace oq::phantom {

using Json = nlohmann::ordered_json;

struct LesionTruth {
  size_t lesion = 0;  // index in the patient's lesion list
  bool present = false;
  AxialMeasurement on_long;   // the acquired plane where the long axis is largest
  AxialMeasurement on_short;  // the acquired plane where the short axis is largest (nodes)
  int long_slice = -1;        // index of that plane, slices sorted by increasing z
  int short_slice = -1;
  double volume_ml = 0;
  Caliper max_3d;
  // The RECIST value: short axis for nodes, long axis otherwise (0 when absent).
  double recist_mm(bool nodal) const {
    return !present ? 0 : nodal ? on_short.short_axis.length_mm : on_long.long_axis.length_mm;
  }
};

// Measures a lesion (scanner coordinates) on the given axial planes (any order).
LesionTruth measure_lesion(const Blob& blob, const std::vector<double>& plane_z);

// Truth for every lesion of a patient at one time point, on that scan's planes.
std::vector<LesionTruth> measure_time_point(const PlacedPatient& p, size_t tp, const std::vector<double>& plane_z);

Json to_json(const LesionTruth& t, const PlacedLesion& l);
Json caliper_json(const Caliper& c);

// Expected RECIST 1.1 and iRECIST responses per treatment line from the true measurements
// (per_tp[tp][lesion]); also the case file `oncoquant recist assess` takes for each line.
Json recist_truth(const PlacedPatient& p, const std::vector<std::vector<LesionTruth>>& per_tp);

}  // namespace oq::phantom
