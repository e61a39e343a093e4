// CT-to-CT registration with ITK's v4 framework: Mattes mutual information, rigid (Euler)
// then affine, two resolution levels on copies block-averaged to about 2 mm. The full-resolution
// CTs never go to ITK: memory stays at a few tens of MB and two cores finish in seconds.
#include <itkAffineTransform.h>
#include <itkCenteredTransformInitializer.h>
#include <itkEuler3DTransform.h>
#include <itkImage.h>
#include <itkImageRegistrationMethodv4.h>
#include <itkMattesMutualInformationImageToImageMetricv4.h>
#include <itkRegistrationParameterScalesFromPhysicalShift.h>
#include <itkRegularStepGradientDescentOptimizerv4.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "oq/recist/tracking.h"

namespace oq::recist {
namespace {

using ImageType = itk::Image<float, 3>;

// Block average to about `spacing_mm`; CT numbers clamped to [-1000, 1500] and shifted so air
// is 0 (the moments initialiser then finds the body's centre of mass).
ImageType::Pointer working_copy(const Volume& v, double spacing_mm) {
  const Grid& g = v.grid();
  std::array<size_t, 3> f{}, n{};
  for (size_t a = 0; a < 3; ++a) {
    f[a] = spacing_mm <= 0 ? 1 : std::max<size_t>(1, static_cast<size_t>(std::lround(spacing_mm / g.spacing[a])));
    n[a] = std::max<size_t>(1, g.size[a] / f[a]);
  }
  auto img = ImageType::New();
  ImageType::RegionType region;
  ImageType::SizeType size;
  for (unsigned a = 0; a < 3; ++a) size[a] = n[a];
  region.SetSize(size);
  img->SetRegions(region);
  ImageType::SpacingType spacing;
  ImageType::PointType origin;
  ImageType::DirectionType dir;
  for (unsigned a = 0; a < 3; ++a) spacing[a] = g.spacing[a] * static_cast<double>(f[a]);
  // The block's centre: half a block minus half a voxel from the first voxel, along each axis.
  const Vec3 o =
      g.to_lps((static_cast<double>(f[0]) - 1) / 2, (static_cast<double>(f[1]) - 1) / 2, (static_cast<double>(f[2]) - 1) / 2);
  for (unsigned r = 0; r < 3; ++r) {
    origin[r] = o[r];
    for (unsigned c = 0; c < 3; ++c) dir(r, c) = g.direction[r * 3 + c];
  }
  img->SetSpacing(spacing);
  img->SetOrigin(origin);
  img->SetDirection(dir);
  img->Allocate();
  float* out = img->GetBufferPointer();
  const double inv = 1.0 / static_cast<double>(f[0] * f[1] * f[2]);
  for (size_t k = 0; k < n[2]; ++k)
    for (size_t j = 0; j < n[1]; ++j)
      for (size_t i = 0; i < n[0]; ++i) {
        double s = 0;
        for (size_t dk = 0; dk < f[2]; ++dk)
          for (size_t dj = 0; dj < f[1]; ++dj)
            for (size_t di = 0; di < f[0]; ++di) {
              const size_t o3 = ((k * f[2] + dk) * g.size[1] + j * f[1] + dj) * g.size[0] + i * f[0] + di;
              s += std::clamp(v.value(o3), -1000.0, 1500.0) + 1000.0;
            }
        out[(k * n[1] + j) * n[0] + i] = static_cast<float>(s * inv);
      }
  return img;
}

template <typename Transform>
struct Stage {
  using Metric = itk::MattesMutualInformationImageToImageMetricv4<ImageType, ImageType>;
  using Optimizer = itk::RegularStepGradientDescentOptimizerv4<double>;
  using Method = itk::ImageRegistrationMethodv4<ImageType, ImageType, Transform>;

  // Runs one stage from `initial`; returns the optimised transform.
  static typename Transform::Pointer run(ImageType* fixed, ImageType* moving, Transform* initial,
                                         const std::vector<unsigned>& shrink, const std::vector<double>& sigmas_mm,
                                         unsigned iterations, double learning_rate, double* metric, int* its) {
    auto m = Metric::New();
    m->SetNumberOfHistogramBins(48);
    auto opt = Optimizer::New();
    opt->SetLearningRate(learning_rate);
    opt->SetMinimumStepLength(0.01);
    opt->SetRelaxationFactor(0.6);
    opt->SetNumberOfIterations(iterations);
    opt->SetGradientMagnitudeTolerance(1e-6);
    auto scales = itk::RegistrationParameterScalesFromPhysicalShift<Metric>::New();
    scales->SetMetric(m);
    opt->SetScalesEstimator(scales);
    opt->SetDoEstimateLearningRateOnce(true);
    auto method = Method::New();
    method->SetFixedImage(fixed);
    method->SetMovingImage(moving);
    method->SetMetric(m);
    method->SetOptimizer(opt);
    method->SetInitialTransform(initial);
    method->InPlaceOn();
    typename Method::ShrinkFactorsArrayType sf(shrink.size());
    typename Method::SmoothingSigmasArrayType ss(sigmas_mm.size());
    for (size_t i = 0; i < shrink.size(); ++i) {
      sf[i] = shrink[i];
      ss[i] = sigmas_mm[i];
    }
    method->SetNumberOfLevels(static_cast<unsigned>(shrink.size()));
    method->SetShrinkFactorsPerLevel(sf);
    method->SetSmoothingSigmasPerLevel(ss);
    method->SetSmoothingSigmasAreSpecifiedInPhysicalUnits(true);
    method->SetMetricSamplingStrategy(Method::MetricSamplingStrategyEnum::REGULAR);
    method->SetMetricSamplingPercentage(0.25);
    method->MetricSamplingReinitializeSeed(20261123);  // the same result on every run
    method->Update();
    *metric = opt->GetValue();
    *its += static_cast<int>(opt->GetCurrentIteration());
    return initial;
  }
};

}  // namespace

Vec3 Registration::map(const Vec3& p) const {
  Vec3 q{};
  for (size_t r = 0; r < 3; ++r) {
    double s = 0;
    for (size_t c = 0; c < 3; ++c) s += matrix[r * 3 + c] * (p[c] - centre[c]);
    q[r] = s + centre[r] + translation[r];
  }
  return q;
}

Vec3 Registration::unmap(const Vec3& q) const {
  // p = M^-1 (q - c - t) + c, with the 3 x 3 inverse by cofactors.
  const auto& m = matrix;
  const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  const std::array<double, 9> inv{
      (m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
      (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
      (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
  Vec3 p{};
  for (size_t r = 0; r < 3; ++r) {
    double s = 0;
    for (size_t c = 0; c < 3; ++c) s += inv[r * 3 + c] * (q[c] - centre[c] - translation[c]);
    p[r] = s + centre[r];
  }
  return p;
}

Result<Registration> register_ct(const Volume& baseline, const Volume& followup, const RegistrationOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  for (const Volume* v : {&baseline, &followup})
    for (size_t a = 0; a < 3; ++a)
      if (static_cast<double>(v->grid().size[a]) * v->grid().spacing[a] < 8 * options.working_spacing_mm)
        return Error(ErrorCode::kInvalidArgument, "a CT too small to register (under " +
                                                      std::to_string(std::lround(8 * options.working_spacing_mm)) +
                                                      " mm along an axis)");
  ImageType::Pointer fixed = working_copy(baseline, options.block_average ? options.working_spacing_mm : 0);
  ImageType::Pointer moving = working_copy(followup, options.block_average ? options.working_spacing_mm : 0);
  // Pyramid levels at about 2 x and 1 x the working spacing.
  unsigned fine = 1;
  if (!options.block_average)
    fine = std::max(1U, static_cast<unsigned>(std::lround(options.working_spacing_mm / fixed->GetSpacing()[0])));
  Registration out;
  try {
    using Rigid = itk::Euler3DTransform<double>;
    auto rigid = Rigid::New();
    auto init = itk::CenteredTransformInitializer<Rigid, ImageType, ImageType>::New();
    init->SetTransform(rigid);
    init->SetFixedImage(fixed);
    init->SetMovingImage(moving);
    init->MomentsOn();
    init->InitializeTransform();
    Stage<Rigid>::run(fixed, moving, rigid, {2 * fine, fine}, {4.0, 2.0}, 150, 2.0, &out.rigid_metric, &out.iterations);
    out.final_metric = out.rigid_metric;
    itk::Matrix<double, 3, 3> matrix = rigid->GetMatrix();
    itk::Vector<double, 3> offset = rigid->GetOffset();
    itk::Point<double, 3> centre = rigid->GetCenter();
    if (options.affine) {
      using Affine = itk::AffineTransform<double, 3>;
      auto affine = Affine::New();
      affine->SetCenter(centre);
      affine->SetMatrix(matrix);
      affine->SetOffset(offset);
      Stage<Affine>::run(fixed, moving, affine, {fine}, {1.0}, 80, 1.0, &out.final_metric, &out.iterations);
      matrix = affine->GetMatrix();
      offset = affine->GetOffset();
    }
    // ITK: p' = M p + offset. Ours: p' = M (p - c) + c + t, so t = offset + M c - c.
    for (unsigned r = 0; r < 3; ++r) {
      out.centre[r] = centre[r];
      double mc = 0;
      for (unsigned c = 0; c < 3; ++c) {
        out.matrix[r * 3 + c] = matrix(r, c);
        mc += matrix(r, c) * centre[c];
      }
      out.translation[r] = offset[r] + mc - centre[r];
    }
  } catch (const itk::ExceptionObject& e) {
    return Error(ErrorCode::kInternal, std::string("registration failed: ") + e.GetDescription());
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace oq::recist
