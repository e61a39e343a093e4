// The DICOM SEG writer (DCMTK dcmseg) and the plugin's descriptor.
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmiod/iodutil.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include "oq/plugin.h"
#include "oq/seg/segmentation.h"

namespace oq::seg {

namespace {

Error dcmtk_error(const std::string& what, const OFCondition& c, const std::string& subject) {
  return Error(ErrorCode::kIo, what + ": " + c.text(), subject);
}

std::string ds(double v) {  // a Decimal String (at most 16 characters)
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// The image whose plane holds slice k of the series grid, with the grid's columns and rows running
// as the image's (what makes a mask slice a SEG frame on that image, pixel for pixel).
Result<const dicom::SourceImage*> image_of_slice(const Grid& grid, std::size_t k, const std::vector<dicom::SourceImage>& images,
                                                 const std::string& lesion) {
  const double k_d = static_cast<double>(k);
  const Vec3 corner = grid.to_lps(0, 0, k_d);
  for (const dicom::SourceImage& image : images) {
    if (dicom::distance_from_plane(image, corner) > 0.25 * grid.spacing[2]) continue;
    const auto first = dicom::image_coordinates(image, corner);
    const auto across = dicom::image_coordinates(image, grid.to_lps(1, 1, k_d));
    const bool same_layout = static_cast<std::size_t>(image.columns) == grid.size[0] &&
                             static_cast<std::size_t>(image.rows) == grid.size[1] && std::fabs(first[0] - 0.5) < 0.05 &&
                             std::fabs(first[1] - 0.5) < 0.05 && std::fabs(across[0] - 1.5) < 0.05 &&
                             std::fabs(across[1] - 1.5) < 0.05;
    if (!same_layout)
      return Error(ErrorCode::kInconsistent,
                   "its mask's slice " + std::to_string(k) + " lies on image " + image.sop_instance_uid +
                       " but its rows and columns do not run as the image's",
                   lesion);
    return &image;
  }
  return Error(ErrorCode::kInconsistent,
               "its mask's slice " + std::to_string(k) + " lies on none of the series' images (the mask does not fit the series)",
               lesion);
}

Result<std::unique_ptr<DcmSegmentation>> create_document(const dicom::SourceImage& first, const TimePointReport& tp,
                                                         const std::string& version) {
  IODGeneralEquipmentModule::EquipmentInfo equipment("OncoQuant", "1", "OncoQuant", version.c_str());
  ContentIdentificationMacro content("1", "LESIONS", ("Lesions of " + tp.time_point_id).c_str(), "OncoQuant^");
  DcmSegmentation* raw = nullptr;
  OFCondition c = DcmSegmentation::createBinarySegmentation(raw, static_cast<Uint16>(first.rows),
                                                            static_cast<Uint16>(first.columns), equipment, content);
  std::unique_ptr<DcmSegmentation> doc(raw);
  if (c.bad()) return dcmtk_error("cannot create the segmentation", c, first.path);
  if (c = doc->importFromSourceImage(first.path.c_str()); c.bad())
    return dcmtk_error("cannot take the image's patient, study and frame of reference", c, first.path);
  doc->getSeries().setSeriesDescription(("OncoQuant lesions, line " + std::to_string(tp.line) + ", " + tp.time_point_id).c_str());
  doc->getSeries().setSeriesNumber("991");
  // Frames are ordered by segment, then by position in the series.
  char dimension_uid[100];
  dcmGenerateUniqueIdentifier(dimension_uid);
  c = doc->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimension_uid, DCM_SegmentIdentificationSequence,
                                             "ReferencedSegmentNumber");
  if (c.good())
    c = doc->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, dimension_uid, DCM_PlanePositionSequence,
                                               "ImagePositionPatient");
  if (c.bad()) return dcmtk_error("cannot describe the frames' dimensions", c, first.path);
  return doc;
}

// What is the same for every frame: the image plane's orientation and pixel spacing.
Status add_shared_groups(DcmSegmentation& doc, const dicom::SourceImage& first, const Grid& grid) {
  const Vec3& r = first.row_direction;
  const Vec3& c = first.column_direction;
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      ds(r[0]).c_str(), ds(r[1]).c_str(), ds(r[2]).c_str(), ds(c[0]).c_str(), ds(c[1]).c_str(), ds(c[2]).c_str()));
  FGPixelMeasures measures;
  OFCondition st = measures.setPixelSpacing((ds(first.row_spacing) + "\\" + ds(first.column_spacing)).c_str());
  if (st.good()) st = measures.setSliceThickness(ds(grid.spacing[2]).c_str());
  if (st.good()) st = doc.addForAllFrames(*orientation);
  if (st.good()) st = doc.addForAllFrames(measures);
  if (st.bad()) return dcmtk_error("cannot describe the image planes", st, first.path);
  return ok_status();
}

Status add_segment(DcmSegmentation& doc, const ReportedLesion& l, Uint16& number) {
  DcmSegment* segment = nullptr;
  OFCondition c = DcmSegment::create(
      segment, l.label.c_str(), CodeSequenceMacro("49755003", "SCT", "Morphologically Altered Structure"),
      CodeSequenceMacro("52988006", "SCT", "Lesion"), DcmSegTypes::SAT_SEMIAUTOMATIC, "OncoQuant (seeded by a reader's click)");
  if (c.good()) c = segment->setTrackingID(l.label.c_str());
  if (c.good()) c = segment->setTrackingUID(l.tracking_uid.c_str());
  if (c.good()) {
    const std::string role = l.role ? to_string(*l.role) : "lesion";
    c = segment->setSegmentDescription((role + ", " + l.organ).substr(0, 64).c_str());
  }
  if (c.good()) c = doc.addSegment(segment, number);
  if (c.bad()) {
    if (number == 0) delete segment;  // not taken over by the document
    return dcmtk_error("cannot add the lesion's segment", c, l.label);
  }
  return ok_status();
}

// One frame per mask slice holding the lesion: the mask placed in a full image-sized frame.
Status add_frames(DcmSegmentation& doc, const ReportedLesion& l, Uint16 number, const Grid& grid,
                  const std::vector<dicom::SourceImage>& images, std::set<const dicom::SourceImage*>& sources) {
  const LesionMask& m = *l.mask;
  for (std::size_t z = 0; z < m.size[2]; ++z) {
    std::vector<Uint8> frame(grid.size[0] * grid.size[1], 0);
    bool any = false;
    for (std::size_t y = 0; y < m.size[1]; ++y)
      for (std::size_t x = 0; x < m.size[0]; ++x)
        if (m.inside[(z * m.size[1] + y) * m.size[0] + x]) {
          frame[(m.offset[1] + y) * grid.size[0] + m.offset[0] + x] = 1;
          any = true;
        }
    if (!any) continue;
    const std::size_t k = m.offset[2] + z;
    auto image = image_of_slice(grid, k, images, l.label);
    if (!image) return image.error();
    sources.insert(*image);
    const Vec3& p = (*image)->position;
    std::unique_ptr<FGPlanePosPatient> position(
        FGPlanePosPatient::createMinimal(ds(p[0]).c_str(), ds(p[1]).c_str(), ds(p[2]).c_str()));
    FGFrameContent content;
    content.setDimensionIndexValues(number, 0);
    content.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1);
    ImageSOPInstanceReferenceMacro source;
    source.setReferencedSOPClassUID((*image)->sop_class_uid.c_str());
    source.setReferencedSOPInstanceUID((*image)->sop_instance_uid.c_str());
    if ((*image)->frame > 0) source.addReferencedFrameNumber(static_cast<Uint16>((*image)->frame));
    std::unique_ptr<FGDerivationImage> derivation(
        DcmSegmentation::createDerivationImageFG({source}, "Lesion segmented by OncoQuant from a reader's click"));
    if (!derivation) return Error(ErrorCode::kInternal, "cannot reference the source image", l.label);
    OFVector<FGBase*> groups{position.get(), &content, derivation.get()};
    if (OFCondition c = doc.addFrame(frame.data(), number, groups); c.bad())
      return dcmtk_error("cannot add a frame of the lesion's segment", c, l.label);
  }
  return ok_status();
}

// The source images again at the document level (Common Instance Reference), as PS3.3 C.12.2 asks.
Status add_references(DcmSegmentation& doc, const std::set<const dicom::SourceImage*>& sources) {
  IODReferences refs;
  for (const dicom::SourceImage* i : sources)
    refs.add(new IODImageReference("", i->study_uid.c_str(), i->series_uid.c_str(), i->sop_instance_uid.c_str(),
                                   i->sop_class_uid.c_str()));
  if (sources.empty()) return ok_status();
  if (doc.getCommonInstanceReference().addReferences(refs, (*sources.begin())->study_uid.c_str()) != sources.size())
    return Error(ErrorCode::kInternal, "cannot list the source images", (*sources.begin())->series_uid);
  return ok_status();
}

}  // namespace

Result<SegmentationWritten> write_segmentation(const TimePointReport& tp, const std::string& series_uid, const Grid& grid,
                                               const std::vector<dicom::SourceImage>& images, const std::string& software_version,
                                               const std::string& path) {
  std::vector<const ReportedLesion*> lesions;
  for (const ReportedLesion& l : tp.lesions)
    if (l.mask && l.value.series_uid == series_uid) lesions.push_back(&l);
  if (lesions.empty() || images.empty())
    return Error(ErrorCode::kNotFound, "no lesion of the time point has a mask on this series", series_uid);

  auto doc = create_document(images.front(), tp, software_version);
  if (!doc) return doc.error();
  if (auto s = add_shared_groups(**doc, images.front(), grid); !s) return s.error();
  SegmentationWritten out;
  std::set<const dicom::SourceImage*> sources;
  for (const ReportedLesion* l : lesions) {
    Uint16 number = 0;
    if (auto s = add_segment(**doc, *l, number); !s) return s.error();
    if (auto s = add_frames(**doc, *l, number, grid, images, sources); !s) return s.error();
    out.segment_of[l->label] = number;
  }
  if (auto s = add_references(**doc, sources); !s) return s.error();
  if (OFCondition c = (*doc)->saveFile(path.c_str()); c.bad()) return dcmtk_error("cannot write the segmentation", c, path);
  OFString uid;
  (*doc)->getSOPCommon().getSOPInstanceUID(uid);
  out.sop_instance_uid = uid.c_str();
  (*doc)->getSeries().getSeriesInstanceUID(uid);
  out.series_uid = uid.c_str();
  return out;
}

}  // namespace oq::seg

namespace {

oq::Detection accepts(const std::string&) {
  return oq::Detection::decline("written by `oncoquant report` from the study store's masks, not from a volume");
}
const oq::ExporterOps kOps{accepts, nullptr};

}  // namespace

extern const oq::PluginDescriptor oq_plugin_seg{
    "seg",
    oq::PluginKind::kExporter,
    "DICOM SEG, one binary segment per lesion on the planes of the series measured (with `oncoquant report`)",
    0,
    nullptr,
    &kOps};
