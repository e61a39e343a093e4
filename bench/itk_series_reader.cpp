// The reference reader for the benchmark: ITK's GDCM series reader, sorted by ITK's own
// GDCMSeriesFileNames, written with the same ITK NIfTI writer OncoQuant uses.
#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkImageSeriesReader.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: itk_series_reader DICOM_DIR OUT.nii\n");
    return 2;
  }
  using Image = itk::Image<short, 3>;
  try {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(argv[1]);
    const auto uids = names->GetSeriesUIDs();
    if (uids.empty()) return 1;
    auto reader = itk::ImageSeriesReader<Image>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(names->GetFileNames(uids.front()));
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetFileName(argv[2]);
    writer->SetInput(reader->GetOutput());
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    std::fprintf(stderr, "error: %s\n", e.GetDescription());
    return 1;
  }
  return 0;
}
