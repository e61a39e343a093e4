// Writes volumes with ITK's image IO: NIfTI (.nii, .nii.gz), NRRD (.nrrd) and MetaImage (.mha),
// all single-file forms. ITK converts our LPS geometry to each format's convention (RAS in NIfTI), which
// is what ITK-SNAP and 3D Slicer read back. Writes to the path it is given; the command makes the
// write atomic with its other outputs (oq::OutputSet).
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkImportImageFilter.h>

#include "oq/output.h"
#include "oq/plugin.h"

namespace oq::volume_io {

namespace {

template <typename T>
Status write_typed(const Volume& vol, const std::string& path) {
  using Image = itk::Image<T, 3>;
  using Import = itk::ImportImageFilter<T, 3>;
  const Grid& g = vol.grid();
  typename Import::Pointer import = Import::New();
  typename Import::SizeType size;
  typename Import::IndexType start;
  start.Fill(0);
  double origin[3], spacing[3];
  typename Image::DirectionType dir;
  for (unsigned i = 0; i < 3; ++i) {
    size[i] = g.size[i];
    origin[i] = g.origin[i];
    spacing[i] = g.spacing[i];
    for (unsigned j = 0; j < 3; ++j) dir(i, j) = g.direction[3 * i + j];
  }
  typename Import::RegionType region;
  region.SetIndex(start);
  region.SetSize(size);
  import->SetRegion(region);
  import->SetOrigin(origin);
  import->SetSpacing(spacing);
  import->SetDirection(dir);
  // No copy: ITK reads our buffer in place (the importer does not own it).
  import->SetImportPointer(const_cast<T*>(vol.data<T>()), g.voxel_count(), false);

  try {
    typename itk::ImageFileWriter<Image>::Pointer writer = itk::ImageFileWriter<Image>::New();
    writer->SetFileName(path);
    writer->SetInput(import->GetOutput());
    writer->SetUseCompression(true);
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    return Error(ErrorCode::kIo, std::string("cannot write the volume: ") + e.GetDescription(), path);
  }
  return ok_status();
}

Status write_volume(const Volume& vol, const std::string& path) {
  switch (vol.type()) {
    case VoxelType::kUInt8:
      return write_typed<unsigned char>(vol, path);
    case VoxelType::kInt16:
      return write_typed<short>(vol, path);
    case VoxelType::kUInt16:
      return write_typed<unsigned short>(vol, path);
    case VoxelType::kFloat32:
      return write_typed<float>(vol, path);
  }
  return Error(ErrorCode::kInternal, "unknown voxel type", path);
}

Detection accepts(const std::string& path) {
  const std::string ext = full_extension(path);
  auto ends = [&](const char* e) {
    const std::string s(e);
    return ext.size() >= s.size() && ext.compare(ext.size() - s.size(), s.size(), s) == 0;
  };
  // Detached-header forms (.nhdr, .mhd) name a second data file that could not be renamed into
  // place atomically with the header, so an interrupted write could leave a header without data.
  if (ends(".nhdr") || ends(".mhd"))
    return Detection::decline("detached-header formats (.nhdr, .mhd) are not written; use .nrrd or .mha");
  if (ends(".nii.gz") || ends(".nii") || ends(".nrrd") || ends(".mha")) return {4, "volume file extension"};
  return Detection::decline("not a volume extension (.nii.gz, .nii, .nrrd, .mha)");
}

const ExporterOps kOps{accepts, write_volume};

}  // namespace

}  // namespace oq::volume_io

extern const oq::PluginDescriptor oq_plugin_volume_io;
const oq::PluginDescriptor oq_plugin_volume_io{
    "itk-volume", oq::PluginKind::kExporter, "volumes as NIfTI (.nii.gz), NRRD (.nrrd) or MetaImage (.mha) via ITK", 100,
    nullptr,      &oq::volume_io::kOps};
