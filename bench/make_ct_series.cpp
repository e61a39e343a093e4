// Builds a long CT series for benchmarks from one real slice: the same pixels, new positions,
// instance numbers and SOP Instance UIDs, so every reader sees an ordinary N-slice series.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_ct_series SLICE.dcm OUT_DIR N\n");
    return 2;
  }
  const std::string out_dir = argv[2];
  const int n = std::atoi(argv[3]);
  DcmFileFormat ff;
  if (ff.loadFile(argv[1]).bad()) {
    std::fprintf(stderr, "error: %s: cannot read\n", argv[1]);
    return 1;
  }
  DcmDataset* ds = ff.getDataset();
  ds->loadAllDataIntoMemory();
  char uid[100];
  ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  const double spacing = 1.25;
  for (int i = 0; i < n; ++i) {
    char pos[96];
    std::snprintf(pos, sizeof pos, "-165.0\\-165.0\\%.3f", -200.0 + spacing * i);
    ds->putAndInsertString(DCM_ImagePositionPatient, pos);
    ds->putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    ds->putAndInsertString(DCM_InstanceNumber, std::to_string(i + 1).c_str());
    ds->putAndInsertString(DCM_SliceLocation, std::to_string(-200.0 + spacing * i).c_str());
    ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
    char name[32];
    std::snprintf(name, sizeof name, "/ct_%04d.dcm", i);
    if (ff.saveFile((out_dir + name).c_str(), EXS_LittleEndianExplicit).bad()) {
      std::fprintf(stderr, "error: cannot write %s%s\n", out_dir.c_str(), name);
      return 1;
    }
  }
  return 0;
}
