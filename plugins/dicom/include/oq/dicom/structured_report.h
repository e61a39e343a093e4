// Reading DICOM SR TID 1500 Measurement Reports, ours and others' (dcmqi, highdicom, OHIF): the
// measurement groups with their tracking identifiers, numeric values, units and the SCOORDs and
// images (or segments) they were measured on, and the document's qualitative evaluations. A plain
// walk over the content tree with DCMTK's dcmdata, so that a report from any writer reads the same.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oq/error.h"

namespace oq::dicom {

struct SrImageReference {
  std::string sop_class_uid, sop_instance_uid;
  int frame = 0;    // 0: the image, or every frame
  int segment = 0;  // a SEG's segment number, when the reference is to a segment
};

struct SrCoordinates {
  std::string graphic_type;    // POINT, POLYLINE, ELLIPSE, ...
  std::vector<double> points;  // column, row pairs (SCOORD) or x, y, z triples (SCOORD3D)
  bool three_d = false;
  std::string frame_of_reference_uid;  // SCOORD3D
  std::optional<SrImageReference> image;
};

struct SrMeasurement {
  std::string name;  // concept name meaning: "Long Axis", "Volume", "SUVbw", ...
  std::string code;  // concept name code value and scheme: "103339001 SCT"
  std::optional<double> value;
  std::string unit;        // UCUM code: "mm", "ml", "{SUVbw}g/ml"
  std::string qualifier;   // why there is no value ("Measurement not attempted", ...)
  std::string derivation;  // "Maximum", "Mean", ...
  std::optional<SrCoordinates> coordinates;
  std::vector<SrImageReference> images;  // images or segments it was measured on
};

struct SrEvaluation {
  std::string name, value;  // concept and value meanings (or the text)
  std::string value_code;   // the coded value's code value, "" for text
};

struct SrMeasurementGroup {
  std::string tracking_identifier, tracking_uid;
  std::string label;  // the group's Comment (what OHIF shows), when there is one
  std::string finding, finding_site, time_point;
  std::vector<SrMeasurement> measurements;
  std::vector<SrEvaluation> evaluations;
  std::optional<SrCoordinates> region;   // a group-level region (TID 1410's Image Region)
  std::vector<SrImageReference> images;  // group-level references (a segment, source images)
};

struct MeasurementReportDocument {
  std::string path;
  std::string sop_instance_uid, series_uid, study_uid, patient_id, content_date;
  std::string title;     // "Imaging Measurement Report"
  std::string observer;  // the person observer, when named
  std::vector<SrMeasurementGroup> groups;
  std::vector<SrEvaluation> evaluations;       // the report's qualitative evaluations
  std::vector<std::string> referenced_series;  // image series in the evidence sequences (not SEG, not SR)
};

// Reads a TID 1500 SR. Not an SR, not TID 1500, or no Imaging Measurements container: an error
// naming the file and why.
Result<MeasurementReportDocument> read_measurement_report(const std::string& path);

}  // namespace oq::dicom
