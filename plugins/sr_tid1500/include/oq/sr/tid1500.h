// DICOM SR TID 1500 Measurement Reports: one per time point of a treatment line.
//
// Each lesion is a measurement group (TID 1501) with its Tracking Identifier and Tracking UID (the
// same UID at every time point), finding and finding site, and its values as TID 300 measurements:
// long and short axis, each with the SCOORD of its caliper on the image it was drawn on, volume
// (referencing the lesion's SEG segment when one is written), mean HU, SUVmax/SUVpeak/SUVmean. A
// lesion with both calipers is written in the form OHIF's `@cornerstonejs/adapters` turn into an
// editable Bidirectional tool: Tracking Identifier "Cornerstone3DTools@^0.1.0:Bidirectional <label>",
// Long Axis first, the label as the group's Comment. The time point's responses are the report's
// qualitative evaluations.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oq/dicom/source_images.h"
#include "oq/error.h"
#include "oq/report.h"

namespace oq::sr {

// The Tracking Identifier prefix OHIF's adapters recognise as their Bidirectional tool.
inline constexpr const char* kBidirectionalTrackingPrefix = "Cornerstone3DTools@^0.1.0:Bidirectional";

// Where a lesion's segmentation was written (a SEG beside the report): its instance and segment.
struct SegmentReference {
  std::string sop_instance_uid, series_uid;
  int segment = 0;
};
using SegmentReferences = std::map<std::string, SegmentReference>;  // by lesion label

struct WriterInfo {
  std::string software_version;  // the device observer's version
  std::string person;            // the person observer: who reviewed or edited the values; "" for none
};

// Writes the report of `tp` to `path`. `images` are the frames of the series measured (their
// headers): every caliper must lie on one of them, and the patient and study of the SR are those
// of the images, so the SR joins the imaging study. Returns the SR's SOP Instance UID.
Result<std::string> write_measurement_report(const TimePointReport& tp, const std::vector<dicom::SourceImage>& images,
                                             const SegmentReferences& segments, const WriterInfo& who, const std::string& path);

}  // namespace oq::sr
