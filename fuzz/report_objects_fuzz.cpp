// What `store import-sr`, `info` and `convert` do with a structured report or a segmentation a reader
// or another tool wrote: read it as a TID 1500 SR and as a SEG placed on a series grid (the SEG's own
// size and a CT's). Any crash, leak or undefined behaviour is a finding; errors are the expected answer.
#include <cstdint>

#include "input_file.h"
#include "oq/dicom/segmentation.h"
#include "oq/dicom/structured_report.h"
#include "oq/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = oqfuzz::write_input(data, size, ".dcm");
  (void)oq::dicom::read_measurement_report(path);
  for (const std::array<std::size_t, 3> size3 :
       {std::array<std::size_t, 3>{23, 38, 3}, std::array<std::size_t, 3>{512, 512, 4}}) {
    oq::Grid grid;
    grid.size = size3;
    grid.spacing = {0.7, 0.7, 2.5};
    (void)oq::dicom::read_segmentation(path, grid);
  }
  (void)oq::scan_inputs({path});  // the catalogue's description of it (info)
  return 0;
}
