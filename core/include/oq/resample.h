// Resampling a volume onto another grid in patient space (LPS): how a PET is put on its CT's
// grid for PET-CT. Trilinear; voxels of the target outside the source get `outside`.
#pragma once

#include "oq/volume.h"

namespace oq {

Volume resample_linear(const Volume& source, const Grid& target, double outside = 0.0);

}  // namespace oq
