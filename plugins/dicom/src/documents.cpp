#include "documents.h"

#include "dataset_access.h"

#include <cstdio>
#include <map>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "oq/dicom/structured_report.h"

namespace oq::dicom {

namespace {

using access::items;
using access::text;

std::string value_text(const SrMeasurement& m) {
  std::string out = m.name;
  if (!m.derivation.empty()) out += " (" + m.derivation + ")";
  if (m.value) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " %g", *m.value);
    out += buf + (m.unit.empty() ? "" : " " + m.unit);
  } else if (!m.qualifier.empty()) {
    out += ": " + m.qualifier;
  }
  if (m.coordinates && m.coordinates->image)
    out += " [" + m.coordinates->graphic_type + " on image " + m.coordinates->image->sop_instance_uid + "]";
  if (m.coordinates && m.coordinates->three_d) out += " [" + m.coordinates->graphic_type + " in 3D]";
  for (const SrImageReference& i : m.images)
    if (i.segment > 0) out += " [segment " + std::to_string(i.segment) + " of " + i.sop_instance_uid + "]";
  return out;
}

std::optional<DocumentInfo> describe_report(const std::string& path) {
  auto doc = read_measurement_report(path);
  if (!doc) return std::nullopt;
  DocumentInfo d;
  d.path = path;
  d.kind = "Structured Report, TID 1500 " + doc->title;
  d.patient_id = doc->patient_id;
  d.study_uid = doc->study_uid;
  d.series_uid = doc->series_uid;
  d.referenced_series = doc->referenced_series;
  for (const SrMeasurementGroup& g : doc->groups) {
    DocumentItem item;
    item.name = g.label.empty() ? g.tracking_identifier : g.label;
    item.tracking_uid = g.tracking_uid;
    if (!g.finding_site.empty()) item.values.push_back("finding site: " + g.finding_site);
    for (const SrMeasurement& m : g.measurements) item.values.push_back(value_text(m));
    for (const SrImageReference& i : g.images)
      if (i.segment > 0) item.values.push_back("segment " + std::to_string(i.segment) + " of " + i.sop_instance_uid);
    for (const SrEvaluation& e : g.evaluations) item.values.push_back(e.name + ": " + e.value);
    d.items.push_back(item);
  }
  if (!doc->evaluations.empty()) {
    DocumentItem evaluations;
    evaluations.name = "qualitative evaluations";
    for (const SrEvaluation& e : doc->evaluations) evaluations.values.push_back(e.name + ": " + e.value);
    d.items.push_back(evaluations);
  }
  return d;
}

std::optional<DocumentInfo> describe_segmentation(const std::string& path) {
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096).bad()) return std::nullopt;
  DcmDataset& ds = *ff.getDataset();
  DocumentInfo d;
  d.path = path;
  d.kind = "DICOM SEG (" + text(ds, DCM_SegmentationType) + ")";
  d.patient_id = text(ds, DCM_PatientID);
  d.study_uid = text(ds, DCM_StudyInstanceUID);
  d.series_uid = text(ds, DCM_SeriesInstanceUID);
  d.description = text(ds, DCM_SeriesDescription);
  for (DcmItem* series : items(ds, DCM_ReferencedSeriesSequence))
    d.referenced_series.push_back(text(*series, DCM_SeriesInstanceUID));
  std::map<int, int> frames;  // segment number -> frames
  for (DcmItem* frame : items(ds, DCM_PerFrameFunctionalGroupsSequence))
    for (DcmItem* id : items(*frame, DCM_SegmentIdentificationSequence))
      ++frames[std::atoi(text(*id, DCM_ReferencedSegmentNumber).c_str())];
  for (DcmItem* segment : items(ds, DCM_SegmentSequence)) {
    DocumentItem item;
    const int number = std::atoi(text(*segment, DCM_SegmentNumber).c_str());
    item.name = text(*segment, DCM_SegmentLabel);
    item.tracking_uid = text(*segment, DCM_TrackingUID);
    item.values.push_back("segment " + std::to_string(number));
    for (DcmItem* type : items(*segment, DCM_SegmentedPropertyTypeCodeSequence))
      item.values.push_back(text(*type, DCM_CodeMeaning));
    if (frames.count(number)) item.values.push_back(std::to_string(frames[number]) + " frame(s)");
    d.items.push_back(item);
  }
  return d;
}

}  // namespace

std::optional<DocumentInfo> describe_document(const std::string& path) {
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 256).bad()) return std::nullopt;
  const std::string modality = text(*ff.getDataset(), DCM_Modality);
  if (modality == "SEG") return describe_segmentation(path);
  if (modality == "SR") return describe_report(path);
  return std::nullopt;
}

}  // namespace oq::dicom
