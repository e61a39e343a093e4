// Assembles frame records into loadable series: groups by series, splits what mixes
// orientations, sizes or acquisitions, sorts slices along the slice normal and checks the
// stack (missing slices, uneven spacing, gantry tilt). No DICOM library: unit-tested on records.
#pragma once

#include <string>
#include <vector>

#include "frame_record.h"
#include "oq/volume.h"

namespace oq::dicom {

enum class StackKind {
  kVolume,  // slices along a normal: CT, PET, SPECT
  kPlanar,  // planar frames (NM whole-body views, secondary captures): stacked, not a 3D geometry
};

enum class Resampling {
  kNone,
  kUnevenSpacing,  // slices interpolated onto an even step
  kGantryTilt,     // each slice shifted in-plane onto an orthogonal grid
};

struct SeriesPart {
  std::string uid;                  // series UID, or "UID#n" for the n-th part of a split series
  std::string split_reason;         // why the series was split (empty when it was not)
  std::vector<FrameRecord> frames;  // in output order (along the normal for volumes)
  StackKind kind = StackKind::kVolume;
  bool loadable = true;
  std::string problem;
  std::vector<std::string> warnings;
  bool orientation_known = true;  // the frames gave Image Orientation (Patient)

  Grid grid;  // the output grid
  Resampling resampling = Resampling::kNone;
  std::vector<double> slice_offsets;                 // position of each frame along the normal (mm, from the first)
  std::vector<std::array<double, 2>> tilt_shift_mm;  // in-plane shift of each frame (row, column axis)
};

std::vector<SeriesPart> build_series(std::vector<FrameRecord> frames);

}  // namespace oq::dicom
