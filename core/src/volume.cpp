#include "oq/volume.h"

#include <cmath>

namespace oq {

const char* to_string(VoxelType t) {
  switch (t) {
    case VoxelType::kUInt8:
      return "uint8";
    case VoxelType::kInt16:
      return "int16";
    case VoxelType::kUInt16:
      return "uint16";
    case VoxelType::kFloat32:
      return "float32";
  }
  return "?";
}

std::size_t voxel_size(VoxelType t) {
  switch (t) {
    case VoxelType::kUInt8:
      return 1;
    case VoxelType::kInt16:
    case VoxelType::kUInt16:
      return 2;
    case VoxelType::kFloat32:
      return 4;
  }
  return 0;
}

Vec3 Grid::to_lps(double i, double j, double k) const {
  const double idx[3] = {i * spacing[0], j * spacing[1], k * spacing[2]};
  Vec3 p = origin;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) p[r] += direction[3 * r + c] * idx[c];
  return p;
}

Vec3 Grid::to_index(const Vec3& lps) const {
  // direction is orthonormal for every grid we build, so its inverse is its transpose.
  const Vec3 d{lps[0] - origin[0], lps[1] - origin[1], lps[2] - origin[2]};
  Vec3 idx{0, 0, 0};
  for (int c = 0; c < 3; ++c) {
    for (int r = 0; r < 3; ++r) idx[c] += direction[3 * r + c] * d[r];
    idx[c] /= spacing[c];
  }
  return idx;
}

Volume::Volume(const Grid& grid, VoxelType type) : grid_(grid), type_(type), bytes_(grid.voxel_count() * voxel_size(type)) {}

double Volume::value(std::size_t n) const {
  switch (type_) {
    case VoxelType::kUInt8:
      return data<std::uint8_t>()[n];
    case VoxelType::kInt16:
      return data<std::int16_t>()[n];
    case VoxelType::kUInt16:
      return data<std::uint16_t>()[n];
    case VoxelType::kFloat32:
      return data<float>()[n];
  }
  return NAN;
}

void Volume::set_value(std::size_t n, double v) {
  switch (type_) {
    case VoxelType::kUInt8:
      data<std::uint8_t>()[n] = static_cast<std::uint8_t>(v);
      break;
    case VoxelType::kInt16:
      data<std::int16_t>()[n] = static_cast<std::int16_t>(v);
      break;
    case VoxelType::kUInt16:
      data<std::uint16_t>()[n] = static_cast<std::uint16_t>(v);
      break;
    case VoxelType::kFloat32:
      data<float>()[n] = static_cast<float>(v);
      break;
  }
}

}  // namespace oq
