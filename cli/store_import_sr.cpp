// oncoquant store import-sr: a TID 1500 SR whose measurements a reader edited elsewhere (OHIF, as
// its adapters write Bidirectional measurements) becomes edited measurements in the study store.
#include <cstdio>

#include "args.h"
#include "image_archive.h"
#include "oq/dicom/structured_report.h"
#include "oq/recist/reader_import.h"
#include "oq/recist/store.h"
#include "store_import_sr.h"

namespace oq::cli {
namespace {

const dicom::SrMeasurement* measurement(const dicom::SrMeasurementGroup& g, const std::string& name) {
  for (const dicom::SrMeasurement& m : g.measurements)
    if (m.name == name && m.value) return &m;
  return nullptr;
}

// A SCOORD's two points back in patient space, through the plane of the image it names.
Result<std::optional<Caliper>> caliper_of(const dicom::SrMeasurement& m, ImageArchive* archive) {
  if (!m.coordinates || m.coordinates->points.size() < 4) return std::optional<Caliper>();
  const dicom::SrCoordinates& c = *m.coordinates;
  Caliper out;
  if (c.three_d) {
    if (c.points.size() < 6) return std::optional<Caliper>();
    out.a = {c.points[0], c.points[1], c.points[2]};
    out.b = {c.points[3], c.points[4], c.points[5]};
    return std::optional<Caliper>(out);
  }
  if (!archive || !c.image) return std::optional<Caliper>();
  auto image = archive->image(c.image->sop_instance_uid, c.image->frame);
  if (!image) return image.error();
  out.a = dicom::patient_point(**image, c.points[0], c.points[1]);
  out.b = dicom::patient_point(**image, c.points[2], c.points[3]);
  out.sop_instance_uid = c.image->sop_instance_uid;
  out.frame = (*image)->frame;
  return std::optional<Caliper>(out);
}

// The SR's measurement groups with a long axis, as the store takes them; the others are listed.
Result<std::vector<recist::ImportedMeasurement>> measurements_of(const dicom::MeasurementReportDocument& doc,
                                                                 ImageArchive* archive, std::vector<std::string>& skipped) {
  std::vector<recist::ImportedMeasurement> out;
  for (const dicom::SrMeasurementGroup& g : doc.groups) {
    const std::string name = g.label.empty() ? g.tracking_identifier : g.label;
    const dicom::SrMeasurement* long_axis = measurement(g, "Long Axis");
    if (!long_axis) {
      skipped.push_back("'" + name + "': no long axis to import");
      continue;
    }
    recist::ImportedMeasurement m;
    m.tracking_uid = g.tracking_uid;
    m.label = name;
    m.long_axis_mm = *long_axis->value;
    auto la = caliper_of(*long_axis, archive);
    if (!la) return Error(la.error().code(), "'" + name + "' refers to an image the archive does not hold", doc.path);
    m.long_axis = *la;
    if (const dicom::SrMeasurement* short_axis = measurement(g, "Short Axis")) {
      m.short_axis_mm = *short_axis->value;
      auto sa = caliper_of(*short_axis, archive);
      if (!sa) return Error(sa.error().code(), "'" + name + "' refers to an image the archive does not hold", doc.path);
      m.short_axis = *sa;
    }
    out.push_back(m);
  }
  return out;
}

// The time point of the SR's study, and a check that every series it refers to is one the store
// knows there: an SR of another study or of images the store never saw is refused.
Result<int> time_point_of(const dicom::MeasurementReportDocument& doc, const recist::PatientRecord& patient) {
  for (const recist::TimePointRecord& t : patient.time_points) {
    if (t.study_uid != doc.study_uid) continue;
    for (const std::string& series : doc.referenced_series) {
      bool known = false;
      for (const recist::SeriesRecord& s : t.series) known = known || s.series_uid == series;
      if (!known)
        return Error(ErrorCode::kInvalidArgument,
                     "the SR refers to series " + series + ", which the study store does not hold for " + patient.pseudonym +
                         " at " + recist::format_date(t.date),
                     doc.path);
    }
    return t.date;
  }
  return Error(ErrorCode::kNotFound,
               "the SR's study (" + doc.study_uid + ") is not a time point of " + patient.pseudonym + " in the study store",
               doc.path);
}

void print(const recist::ImportOutcome& o, const std::vector<std::string>& skipped, const std::string& date) {
  std::printf("imported at %s: %zu edited, %zu unchanged, %zu not matched\n", date.c_str(), o.edited.size(), o.unchanged.size(),
              o.unmatched.size() + skipped.size());
  for (const auto& m : o.edited) std::printf("  edited     %-12s (matched by %s)\n", m.lesion.c_str(), m.how.c_str());
  for (const auto& m : o.unchanged) std::printf("  unchanged  %-12s (matched by %s)\n", m.lesion.c_str(), m.how.c_str());
  for (const std::string& u : o.unmatched) std::printf("  not matched: %s\n", u.c_str());
  for (const std::string& s : skipped) std::printf("  not matched: %s\n", s.c_str());
}

}  // namespace

int store_import_sr(const Args& args, const std::string& db, const recist::Actor& who) {
  const std::string path = args.positional()[1], pseudonym = args.get("--patient");
  auto doc = dicom::read_measurement_report(path);
  if (!doc) return fail(doc.error().describe());
  if (doc->patient_id != pseudonym)
    return fail(path + ": the SR is of patient '" + doc->patient_id + "', not '" + pseudonym + "'");
  auto store = recist::open_sqlite_store(db);
  if (!store) return fail(store.error().describe());
  auto patient = (*store)->patient_record(pseudonym);
  if (!patient) return fail(db + ": " + patient.error().describe());
  auto date = time_point_of(*doc, *patient);
  if (!date) return fail(date.error().describe());
  std::optional<ImageArchive> archive;
  if (args.has("--images")) archive.emplace(args.get("--images"));
  std::vector<std::string> skipped;
  auto measurements = measurements_of(*doc, archive ? &*archive : nullptr, skipped);
  if (!measurements) return fail(measurements.error().describe());
  auto outcome = recist::import_reader_measurements(**store, pseudonym, *date, *measurements, who);
  if (!outcome) return fail(db + ": " + outcome.error().describe());
  print(*outcome, skipped, recist::format_date(*date));
  return 0;
}

}  // namespace oq::cli
