#include "oq/dicom/structured_report.h"

#include "dataset_access.h"

#include <cstdlib>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

namespace oq::dicom {

namespace {

using access::items;
using access::text;

DcmItem* first_item(DcmItem& item, const DcmTagKey& sequence) {
  return access::first_item(&item, sequence);
}

// A coded entry as "meaning", and its code as "value scheme".
std::string meaning_of(DcmItem* code) {
  return code ? text(*code, DCM_CodeMeaning) : "";
}
std::string code_of(DcmItem* code) {
  if (!code) return "";
  std::string value = text(*code, DCM_CodeValue);
  if (value.empty()) value = text(*code, DCM_LongCodeValue);
  if (value.empty()) value = text(*code, DCM_URNCodeValue);
  return value + " " + text(*code, DCM_CodingSchemeDesignator);
}
std::string concept_of(DcmItem& item) {
  return meaning_of(first_item(item, DCM_ConceptNameCodeSequence));
}
std::string concept_code_of(DcmItem& item) {
  return code_of(first_item(item, DCM_ConceptNameCodeSequence));
}

int integer(DcmItem& item, const DcmTagKey& tag) {
  const std::string t = text(item, tag);
  return t.empty() ? 0 : std::atoi(t.c_str());
}

SrImageReference image_of(DcmItem& item) {
  SrImageReference r;
  if (DcmItem* sop = first_item(item, DCM_ReferencedSOPSequence)) {
    r.sop_class_uid = text(*sop, DCM_ReferencedSOPClassUID);
    r.sop_instance_uid = text(*sop, DCM_ReferencedSOPInstanceUID);
    r.frame = integer(*sop, DCM_ReferencedFrameNumber);
    r.segment = integer(*sop, DCM_ReferencedSegmentNumber);
  }
  return r;
}

SrCoordinates coordinates_of(DcmItem& item, bool three_d) {
  SrCoordinates c;
  c.three_d = three_d;
  c.graphic_type = text(item, three_d ? DCM_GraphicType : DCM_GraphicType);
  c.frame_of_reference_uid = text(item, DCM_ReferencedFrameOfReferenceUID);
  DcmElement* data = nullptr;
  if (item.findAndGetElement(DCM_GraphicData, data).good() && data)
    for (unsigned long i = 0; i < data->getVM(); ++i) {
      Float32 f = 0;
      Float64 d = 0;
      if (three_d && data->getFloat64(d, i).good())
        c.points.push_back(d);
      else if (data->getFloat32(f, i).good())
        c.points.push_back(f);
    }
  for (DcmItem* child : items(item, DCM_ContentSequence))
    if (text(*child, DCM_ValueType) == "IMAGE") c.image = image_of(*child);
  return c;
}

SrMeasurement measurement_of(DcmItem& item) {
  SrMeasurement m;
  m.name = concept_of(item);
  m.code = concept_code_of(item);
  if (DcmItem* mv = first_item(item, DCM_MeasuredValueSequence)) {
    const std::string v = text(*mv, DCM_NumericValue);
    if (!v.empty()) m.value = std::strtod(v.c_str(), nullptr);
    if (DcmItem* unit = first_item(*mv, DCM_MeasurementUnitsCodeSequence)) m.unit = text(*unit, DCM_CodeValue);
  }
  if (DcmItem* q = first_item(item, DCM_NumericValueQualifierCodeSequence)) m.qualifier = meaning_of(q);
  for (DcmItem* child : items(item, DCM_ContentSequence)) {
    const std::string type = text(*child, DCM_ValueType);
    if (type == "SCOORD" || type == "SCOORD3D")
      m.coordinates = coordinates_of(*child, type == "SCOORD3D");
    else if (type == "IMAGE")
      m.images.push_back(image_of(*child));
    else if (type == "CODE" && concept_code_of(*child) == "121401 DCM")
      m.derivation = meaning_of(first_item(*child, DCM_ConceptCodeSequence));
  }
  return m;
}

SrEvaluation evaluation_of(DcmItem& item) {
  SrEvaluation e;
  e.name = concept_of(item);
  if (DcmItem* value = first_item(item, DCM_ConceptCodeSequence)) {
    e.value = meaning_of(value);
    e.value_code = text(*value, DCM_CodeValue);
  } else {
    e.value = text(item, DCM_TextValue);
  }
  return e;
}

SrMeasurementGroup group_of(DcmItem& group) {
  SrMeasurementGroup g;
  for (DcmItem* item : items(group, DCM_ContentSequence)) {
    const std::string type = text(*item, DCM_ValueType), code = concept_code_of(*item);
    if (code == "112039 DCM")
      g.tracking_identifier = text(*item, DCM_TextValue);
    else if (code == "112040 DCM")
      g.tracking_uid = text(*item, DCM_UID);
    else if (code == "121106 DCM" && type == "TEXT")
      g.label = text(*item, DCM_TextValue);
    else if (code == "121071 DCM")
      g.finding = meaning_of(first_item(*item, DCM_ConceptCodeSequence));
    else if (code == "363698007 SCT" || code == "G-C0E3 SRT")
      g.finding_site = meaning_of(first_item(*item, DCM_ConceptCodeSequence));
    else if (concept_of(*item) == "Time Point")
      g.time_point = text(*item, DCM_TextValue);
    else if (type == "NUM")
      g.measurements.push_back(measurement_of(*item));
    else if (type == "SCOORD" || type == "SCOORD3D")
      g.region = coordinates_of(*item, type == "SCOORD3D");
    else if (type == "IMAGE")
      g.images.push_back(image_of(*item));
    else if ((type == "CODE" || type == "TEXT") && text(*item, DCM_RelationshipType) == "CONTAINS")
      g.evaluations.push_back(evaluation_of(*item));
  }
  return g;
}

void read_content(DcmItem& root, MeasurementReportDocument& doc) {
  for (DcmItem* item : items(root, DCM_ContentSequence)) {
    const std::string code = concept_code_of(*item), type = text(*item, DCM_ValueType);
    if (code == "126010 DCM") {  // Imaging Measurements
      for (DcmItem* g : items(*item, DCM_ContentSequence))
        if (concept_code_of(*g) == "125007 DCM") doc.groups.push_back(group_of(*g));
    } else if (code == "C0034375 UMLS") {  // Qualitative Evaluations
      for (DcmItem* e : items(*item, DCM_ContentSequence)) doc.evaluations.push_back(evaluation_of(*e));
    } else if (code == "121008 DCM" && type == "PNAME") {
      doc.observer = text(*item, DCM_PersonName);
    }
  }
}

}  // namespace

Result<MeasurementReportDocument> read_measurement_report(const std::string& path) {
  DcmFileFormat ff;
  if (OFCondition c = ff.loadFile(path.c_str()); c.bad())
    return Error(ErrorCode::kUnreadable, std::string("not a readable DICOM file: ") + c.text(), path);
  DcmDataset& ds = *ff.getDataset();
  if (text(ds, DCM_Modality) != "SR" || text(ds, DCM_ValueType) != "CONTAINER")
    return Error(ErrorCode::kInvalidArgument, "not a DICOM structured report", path);
  const std::string title_code = concept_code_of(ds);
  DcmItem* tpl = first_item(ds, DCM_ContentTemplateSequence);
  const bool tid1500 = (tpl && text(*tpl, DCM_TemplateIdentifier) == "1500") || title_code == "126000 DCM";
  if (!tid1500)
    return Error(ErrorCode::kUnsupported,
                 "a structured report, but not a TID 1500 Measurement Report (its title: " + concept_of(ds) + ")", path);
  MeasurementReportDocument doc;
  doc.path = path;
  doc.sop_instance_uid = text(ds, DCM_SOPInstanceUID);
  doc.series_uid = text(ds, DCM_SeriesInstanceUID);
  doc.study_uid = text(ds, DCM_StudyInstanceUID);
  doc.patient_id = text(ds, DCM_PatientID);
  doc.content_date = text(ds, DCM_ContentDate);
  doc.title = concept_of(ds);
  read_content(ds, doc);
  for (const DcmTagKey& evidence : {DCM_CurrentRequestedProcedureEvidenceSequence, DCM_PertinentOtherEvidenceSequence})
    for (DcmItem* study : items(ds, evidence))
      for (DcmItem* series : items(*study, DCM_ReferencedSeriesSequence)) {
        // Images only: a segmentation or another report beside the images is no series the images came in.
        bool images = false;
        for (DcmItem* sop : items(*series, DCM_ReferencedSOPSequence)) {
          const std::string cls = text(*sop, DCM_ReferencedSOPClassUID);
          images = images || (cls != UID_SegmentationStorage && cls.rfind("1.2.840.10008.5.1.4.1.1.88.", 0) != 0);
        }
        if (images) doc.referenced_series.push_back(text(*series, DCM_SeriesInstanceUID));
      }
  return doc;
}

}  // namespace oq::dicom
