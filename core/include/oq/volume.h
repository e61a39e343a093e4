// A 3D image on a grid in DICOM patient coordinates (LPS, millimetres).
// Voxels are stored in one of a few types: CT in HU fits int16, PET in SUV needs float,
// masks are uint8. The grid maps index (i, j, k) to LPS by
//   p = origin + direction * diag(spacing) * (i, j, k)
// where the columns of `direction` are the unit row, column and slice-normal directions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace oq {

enum class VoxelType { kUInt8, kInt16, kUInt16, kFloat32 };

const char* to_string(VoxelType t);
std::size_t voxel_size(VoxelType t);

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major; column c is axis c

struct Grid {
  std::array<std::size_t, 3> size{0, 0, 0};
  Vec3 spacing{1, 1, 1};
  Vec3 origin{0, 0, 0};
  Mat3 direction{1, 0, 0, 0, 1, 0, 0, 0, 1};

  std::size_t voxel_count() const { return size[0] * size[1] * size[2]; }
  // Index (continuous) to LPS millimetres.
  Vec3 to_lps(double i, double j, double k) const;
  // LPS millimetres to continuous index.
  Vec3 to_index(const Vec3& lps) const;
  Vec3 axis(int c) const { return {direction[c], direction[3 + c], direction[6 + c]}; }
};

// The image an axial slice of a volume came from: what a caliper drawn on that slice refers to in a
// DICOM SR (SCOORD) or SEG.
struct SliceSource {
  std::string sop_instance_uid;
  int frame = 0;  // frame number (1-based) in a multi-frame image; 0 for a single-frame image
};

class Volume {
 public:
  Volume() = default;
  Volume(const Grid& grid, VoxelType type);

  const Grid& grid() const { return grid_; }
  Grid& grid() { return grid_; }
  VoxelType type() const { return type_; }
  std::size_t byte_size() const { return bytes_.size(); }

  // What a voxel value means: "HU", "SUVbw", "SULlbm", "Bq/ml", "counts", ...
  const std::string& units() const { return units_; }
  void set_units(std::string units) { units_ = std::move(units); }

  // Slice k's source image, one per slice, when each slice is one stored image; empty when the
  // slices were interpolated (uneven spacing) or the volume was not read from DICOM.
  const std::vector<SliceSource>& slice_sources() const { return slice_sources_; }
  void set_slice_sources(std::vector<SliceSource> sources) { slice_sources_ = std::move(sources); }

  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(bytes_.data());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(bytes_.data());
  }
  void* raw() { return bytes_.data(); }
  const void* raw() const { return bytes_.data(); }

  // The value of voxel n as double, whatever the storage type.
  double value(std::size_t n) const;
  void set_value(std::size_t n, double v);

 private:
  Grid grid_;
  VoxelType type_ = VoxelType::kFloat32;
  std::string units_;
  std::vector<SliceSource> slice_sources_;
  std::vector<unsigned char> bytes_;
};

}  // namespace oq
