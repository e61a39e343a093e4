// The TID 1500 writer (DCMTK dcmsr/cmr) and the plugin's descriptor.
#include <cstdio>
#include <map>
#include <set>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include "codes.h"
#include "oq/plugin.h"
#include "oq/serialize.h"
#include "oq/sr/tid1500.h"

namespace oq::sr {

namespace {

using Group = TID1500_MeasurementReport::TID1501_Measurements;
using Value = CMR_TID1501_in_TID1500::MeasurementValue;

// OncoQuant as a device observer: one UID for the software, under the 2.25 (UUID) root.
constexpr const char* kDeviceUid = "2.25.190237146520385918340146289374018365271";

const DSRCodedEntryValue kLongAxis("103339001", "SCT", "Long Axis");
const DSRCodedEntryValue kShortAxis("103340004", "SCT", "Short Axis");
const DSRCodedEntryValue kVolume("118565006", "SCT", "Volume");
const DSRCodedEntryValue kAttenuation("112031", "DCM", "Attenuation Coefficient");
const DSRCodedEntryValue kMm("mm", "UCUM", "millimeter");
const DSRCodedEntryValue kMl("ml", "UCUM", "milliliter");
const DSRCodedEntryValue kHu("[hnsf'U]", "UCUM", "Hounsfield unit");
const DSRCodedEntryValue kSuvUnit("{SUVbw}g/ml", "UCUM", "Standardized Uptake Value body weight");

Error dcmtk_error(const std::string& what, const OFCondition& c, const std::string& subject) {
  return Error(ErrorCode::kIo, what + ": " + c.text(), subject);
}

std::string number(double value, Quantity q) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals_of(q), report_value(value, q));
  return buf;
}

// The frames of the measured series, by SOP Instance UID and frame number.
using ImageIndex = std::map<std::pair<std::string, int>, const dicom::SourceImage*>;

// What the lesions are written against, and the images they end up referring to (which the SR
// must list as evidence).
struct Context {
  ImageIndex index;
  const SegmentReferences* segments = nullptr;
  std::set<const dicom::SourceImage*> referenced;
};

Result<const dicom::SourceImage*> image_of(const ImageIndex& index, const Caliper& c, const std::string& lesion) {
  const auto it = index.find({c.sop_instance_uid, c.frame});
  if (it == index.end())
    return Error(ErrorCode::kNotFound,
                 "its caliper lies on image " + c.sop_instance_uid + ", which is not among the images of the series measured",
                 lesion);
  for (const Vec3& p : {c.a, c.b})
    if (dicom::distance_from_plane(*it->second, p) > 0.5)
      return Error(ErrorCode::kInvalidArgument, "its caliper does not lie on the image it names (" + c.sop_instance_uid + ")",
                   lesion);
  return it->second;
}

// A caliper as TID 300's SCOORD: a two-point POLYLINE on its image.
Status add_caliper(Group& g, const DSRCodedEntryValue& axis, double value_mm, const Caliper* caliper, Context& ctx,
                   const std::string& lesion) {
  OFCondition c = g.addMeasurement(axis, Value(number(value_mm, Quantity::kLengthMm).c_str(), kMm));
  if (c.bad()) return dcmtk_error("cannot add the " + std::string(axis.getCodeMeaning().c_str()), c, lesion);
  if (!caliper) return ok_status();
  auto image = image_of(ctx.index, *caliper, lesion);
  if (!image) return image.error();
  ctx.referenced.insert(*image);
  DSRSpatialCoordinatesValue line(DSRTypes::GT_Polyline);
  for (const Vec3& p : {caliper->a, caliper->b}) {
    const auto xy = dicom::image_coordinates(**image, p);
    line.getGraphicDataList().addItem(static_cast<Float32>(xy[0]), static_cast<Float32>(xy[1]));
  }
  DSRImageReferenceValue ref((*image)->sop_class_uid.c_str(), (*image)->sop_instance_uid.c_str());
  if ((*image)->frame > 0) ref.getFrameList().addItem(static_cast<Sint32>((*image)->frame));
  c = g.getMeasurement().addSpatialCoordinates(CODE_DCM_SourceOfMeasurement, line, ref);
  if (c.bad()) return dcmtk_error("cannot add the caliper's coordinates", c, lesion);
  return ok_status();
}

Status add_value(Group& g, const DSRCodedEntryValue& concept, double value, Quantity q, const DSRCodedEntryValue& unit,
                 const CID7464_GeneralRegionOfInterestMeasurementModifiers* derivation, const std::string& lesion) {
  OFCondition c = g.addMeasurement(concept, Value(number(value, q).c_str(), unit));
  if (c.good() && derivation) c = g.getMeasurement().setDerivation(*derivation);
  if (c.bad()) return dcmtk_error("cannot add " + std::string(concept.getCodeMeaning().c_str()), c, lesion);
  return ok_status();
}

// A lesion the reader gave a status but no size (a non-target present, a target gone): TID 1501
// needs a measurement, so its long axis is written as 0 mm when it has disappeared (what RECIST
// counts) and otherwise as a value not measured (PS3.16 CID 42), its status saying why.
Status add_unmeasured(Group& g, const ReportedLesion& l) {
  const Value value = l.value.status == MeasurementStatus::kAbsent
                          ? Value("0", kMm)
                          : Value(CID42_NumericValueQualifier(CID42_NumericValueQualifier::MeasurementNotAttempted));
  if (OFCondition c = g.addMeasurement(kLongAxis, value); c.bad())
    return dcmtk_error("cannot add the lesion's status", c, l.label);
  return ok_status();
}

bool bidirectional(const LesionMeasurement& v) {
  return v.long_axis_mm && v.short_axis_mm && v.long_axis && v.short_axis && !v.long_axis->sop_instance_uid.empty() &&
         !v.short_axis->sop_instance_uid.empty();
}

Status add_values(Group& g, const ReportedLesion& l, Context& ctx) {
  const LesionMeasurement& v = l.value;
  if (v.long_axis_mm)
    if (auto s = add_caliper(g, kLongAxis, *v.long_axis_mm, v.long_axis ? &*v.long_axis : nullptr, ctx, l.label); !s) return s;
  if (v.short_axis_mm)
    if (auto s = add_caliper(g, kShortAxis, *v.short_axis_mm, v.short_axis ? &*v.short_axis : nullptr, ctx, l.label); !s)
      return s;
  if (v.volume_ml) {
    if (auto s = add_value(g, kVolume, *v.volume_ml, Quantity::kVolumeMl, kMl, nullptr, l.label); !s) return s;
    // The volume is that of the lesion's segment in the SEG written beside this report.
    if (const auto seg = ctx.segments->find(l.label); seg != ctx.segments->end()) {
      DSRImageReferenceValue segment(UID_SegmentationStorage, seg->second.sop_instance_uid.c_str());
      segment.getSegmentList().addItem(static_cast<Uint16>(seg->second.segment));
      if (OFCondition c = g.getMeasurement().addImage(CODE_DCM_SourceOfMeasurement, segment); c.bad())
        return dcmtk_error("cannot reference the lesion's segment", c, l.label);
    }
  }
  const CID7464_GeneralRegionOfInterestMeasurementModifiers mean(CID7464_GeneralRegionOfInterestMeasurementModifiers::Mean);
  const CID7464_GeneralRegionOfInterestMeasurementModifiers max(CID7464_GeneralRegionOfInterestMeasurementModifiers::Maximum);
  const CID7464_GeneralRegionOfInterestMeasurementModifiers peak(
      CID7464_GeneralRegionOfInterestMeasurementModifiers::PeakValueWithinROI);
  if (v.mean_hu)
    if (auto s = add_value(g, kAttenuation, *v.mean_hu, Quantity::kHu, kHu, &mean, l.label); !s) return s;
  const DSRCodedEntryValue suv(CODE_DCM_SUVbw);
  if (v.suv.suv_max)
    if (auto s = add_value(g, suv, *v.suv.suv_max, Quantity::kUptake, kSuvUnit, &max, l.label); !s) return s;
  if (v.suv.suv_peak)
    if (auto s = add_value(g, suv, *v.suv.suv_peak, Quantity::kUptake, kSuvUnit, &peak, l.label); !s) return s;
  if (v.suv.suv_mean)
    if (auto s = add_value(g, suv, *v.suv.suv_mean, Quantity::kUptake, kSuvUnit, &mean, l.label); !s) return s;
  if (!g.hasMeasurements()) return add_unmeasured(g, l);
  return ok_status();
}

const char* role_name(const std::optional<LesionRole>& role) {
  if (!role) return "Not assigned";
  switch (*role) {
    case LesionRole::kTarget:
      return "Target lesion";
    case LesionRole::kNonTarget:
      return "Non-target lesion";
    case LesionRole::kNew:
      return "New lesion";
  }
  return "Not assigned";
}

Status add_lesion(TID1500_MeasurementReport& report, const TimePointReport& tp, const ReportedLesion& l, Context& ctx) {
  OFCondition c = report.addIndividualMeasurements();
  Group& g = report.getIndividualMeasurements();
  const std::string tracking = bidirectional(l.value) ? std::string(kBidirectionalTrackingPrefix) + " " + l.label : l.label;
  if (c.good()) c = g.setTrackingIdentifier(tracking.c_str());
  if (c.good()) c = g.setTrackingUniqueIdentifier(l.tracking_uid.c_str());
  if (c.good()) c = g.setTimePoint(tp.time_point_id.c_str());
  if (c.good()) c = g.setFinding(finding_code());
  if (c.good())
    if (auto site = finding_site_of(l.organ, l.nodal)) c = g.addFindingSite(*site);
  if (c.good()) c = g.setMeasurementMethod(CMR_CID6147::RECIST11);
  if (c.bad()) return dcmtk_error("cannot start the lesion's measurement group", c, l.label);
  if (auto s = add_values(g, l, ctx); !s) return s;
  const auto qualitative = [&](const char* code, const char* meaning, const DSRCodedEntryValue& value) {
    return g.addQualitativeEvaluation(DSRCodedEntryValue(code, kOncoQuantScheme, meaning), value);
  };
  c = qualitative("role", "RECIST role",
                  DSRCodedEntryValue(l.role ? to_string(*l.role) : "none", kOncoQuantScheme, role_name(l.role)));
  if (c.good()) c = qualitative("status", "Lesion status", status_code(l.value.status));
  if (c.good()) c = qualitative("method", "Measurement method", method_code(l.value.method));
  // TID 1502's Subject Time Point Identifier: which of the patient's time points this is.
  if (c.good()) c = g.addExtraContentItem(DSRTypes::RT_hasObsContext, DSRTypes::VT_Text);
  if (c.good()) c = g.getCurrentContentItem().setConceptName(CODE_DCM_SubjectTimePointIdentifier);
  if (c.good())
    c = g.getCurrentContentItem().setStringValue(
        (tp.time_point_id + " of line " + std::to_string(tp.line) + " (" + tp.date + ")").c_str());
  // The reader's name for the lesion, where OHIF takes a measurement's label from.
  if (c.good()) c = g.addExtraContentItem(DSRTypes::RT_contains, DSRTypes::VT_Text);
  if (c.good()) c = g.getCurrentContentItem().setConceptName(CODE_DCM_Comment);
  if (c.good()) c = g.getCurrentContentItem().setStringValue(l.label.c_str());
  if (c.bad()) return dcmtk_error("cannot describe the lesion", c, l.label);
  return ok_status();
}

Status add_responses(TID1500_MeasurementReport& report, const TimePointReport& tp) {
  if (!tp.responses) return ok_status();
  const TimePointResponses& r = *tp.responses;
  const std::string criteria = tp.criteria == "iRECIST" ? "iRECIST" : "RECIST 1.1";
  const std::pair<const char*, const std::string*> items[] = {
      {"target", &r.target}, {"non-target", &r.non_target}, {"new", &r.new_lesions}, {"overall", &r.overall}};
  for (const auto& [code, value] : items) {
    if (value->empty()) continue;
    const std::string meaning = (std::string(code) == "new"       ? std::string("New lesions")
                                 : std::string(code) == "overall" ? criteria + " overall response"
                                                                  : criteria + " " + code + " response");
    if (OFCondition c =
            report.addQualitativeEvaluation(DSRCodedEntryValue(code, kOncoQuantScheme, meaning.c_str()), response_code(*value));
        c.bad())
      return dcmtk_error("cannot add the time point's responses", c, tp.patient_id);
  }
  return ok_status();
}

DSRCodedEntryValue procedure_of(const std::string& modality) {
  if (modality == "PT") return DSRCodedEntryValue("44136-0", "LN", "PET whole body");
  return DSRCodedEntryValue("25045-6", "LN", "CT unspecified body region");
}

// The patient and study of the images: the SR joins their study.
Status take_patient_and_study(DSRDocument& doc, const TimePointReport& tp, const dicom::SourceImage& first) {
  DcmFileFormat ff;
  if (OFCondition c = ff.loadFileUntilTag(first.path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect, DCM_PixelData);
      c.bad())
    return dcmtk_error("cannot read the image's patient and study", c, first.path);
  DcmDataset& ds = *ff.getDataset();
  OFString patient;
  ds.findAndGetOFString(DCM_PatientID, patient);
  if (std::string(patient.c_str()) != tp.patient_id)
    return Error(ErrorCode::kInvalidArgument,
                 "the images are of patient '" + std::string(patient.c_str()) + "', the report is for '" + tp.patient_id + "'",
                 first.path);
  if (!tp.study_uid.empty() && first.study_uid != tp.study_uid)
    return Error(ErrorCode::kInvalidArgument,
                 "the images belong to study " + first.study_uid + ", the time point " + tp.date + " to " + tp.study_uid,
                 first.path);
  OFCondition c = doc.readPatientData(ds);
  if (c.good()) c = doc.readStudyData(ds);
  if (c.bad()) return dcmtk_error("cannot take the image's patient and study", c, first.path);
  doc.createNewSeries();
  return ok_status();
}

// Every image and segmentation the SR refers to, as PS3.3 C.17.2 requires.
Status list_evidence(DSRDocument& doc, const Context& ctx) {
  DSRSOPInstanceReferenceList& evidence = doc.getCurrentRequestedProcedureEvidence();
  for (const dicom::SourceImage* i : ctx.referenced)
    if (OFCondition c =
            evidence.addItem(i->study_uid.c_str(), i->series_uid.c_str(), i->sop_class_uid.c_str(), i->sop_instance_uid.c_str());
        c.bad())
      return dcmtk_error("cannot list the referenced images", c, i->path);
  if (ctx.referenced.empty()) return ok_status();
  const std::string study = (*ctx.referenced.begin())->study_uid;
  std::set<std::string> listed;
  for (const auto& [label, seg] : *ctx.segments)
    if (listed.insert(seg.sop_instance_uid).second)
      if (OFCondition c =
              evidence.addItem(study.c_str(), seg.series_uid.c_str(), UID_SegmentationStorage, seg.sop_instance_uid.c_str());
          c.bad())
        return dcmtk_error("cannot list the segmentation", c, label);
  return ok_status();
}

}  // namespace

Result<std::string> write_measurement_report(const TimePointReport& tp, const std::vector<dicom::SourceImage>& images,
                                             const SegmentReferences& segments, const WriterInfo& who, const std::string& path) {
  if (images.empty())
    return Error(ErrorCode::kInvalidArgument, "no images to refer the measurements to", tp.patient_id + " " + tp.date);
  Context ctx;
  ctx.segments = &segments;
  for (const dicom::SourceImage& i : images) ctx.index[{i.sop_instance_uid, i.frame}] = &i;

  TID1500_MeasurementReport report(CMR_CID7021::ImagingMeasurementReport);
  OFCondition c = report.setLanguage(CID5000_Languages::English);
  if (c.good() && !who.person.empty()) c = report.getObservationContext().addPersonObserver(who.person.c_str());
  if (c.good())
    c = report.getObservationContext().addDeviceObserver(kDeviceUid, "OncoQuant", "OncoQuant",
                                                         ("OncoQuant " + who.software_version).c_str());
  if (c.good()) c = report.addProcedureReported(procedure_of(images.front().modality));
  if (c.bad()) return dcmtk_error("cannot start the measurement report", c, path);
  for (const ReportedLesion& l : tp.lesions)
    if (auto s = add_lesion(report, tp, l, ctx); !s) return s.error();
  if (auto s = add_responses(report, tp); !s) return s.error();
  if (!report.isValid()) return Error(ErrorCode::kInternal, "the measurement report is incomplete (TID 1500)", path);

  DSRDocument doc;
  if (c = doc.setTreeFromRootTemplate(report, OFTrue /*expand*/); c.bad())
    return dcmtk_error("cannot build the SR document", c, path);
  if (auto s = take_patient_and_study(doc, tp, images.front()); !s) return s.error();
  const std::string description = "OncoQuant measurements, line " + std::to_string(tp.line) + ", " + tp.time_point_id;
  doc.setSeriesDescription(description.c_str());
  doc.setManufacturer("OncoQuant");
  doc.setSoftwareVersions(who.software_version.c_str());
  doc.setSeriesNumber("990");
  doc.setInstanceNumber("1");
  if (auto s = list_evidence(doc, ctx); !s) return s.error();
  doc.getCodingSchemeIdentification().addItem(kOncoQuantScheme);
  doc.getCodingSchemeIdentification().setCodingSchemeName("OncoQuant codes");
  doc.getCodingSchemeIdentification().setCodingSchemeResponsibleOrganization("OncoQuant");
  doc.completeDocument();  // every value the store holds for the time point is in it

  DcmFileFormat out;
  if (c = doc.write(*out.getDataset()); c.bad()) return dcmtk_error("cannot encode the SR", c, path);
  if (c = out.saveFile(path.c_str(), EXS_LittleEndianExplicit); c.bad()) return dcmtk_error("cannot write the SR", c, path);
  OFString uid;
  doc.getSOPInstanceUID(uid);
  return std::string(uid.c_str());
}

}  // namespace oq::sr

namespace {

oq::Detection accepts(const std::string&) {
  return oq::Detection::decline("written by `oncoquant report` from the study store, not from a volume");
}
const oq::ExporterOps kOps{accepts, nullptr};

}  // namespace

extern const oq::PluginDescriptor oq_plugin_sr_tid1500{
    "sr_tid1500",
    oq::PluginKind::kExporter,
    "DICOM SR TID 1500 measurement reports, one per time point (editable in OHIF as Bidirectional measurements)",
    0,
    nullptr,
    &kOps};
