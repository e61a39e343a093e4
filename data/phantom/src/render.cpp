#include "oq/phantom/render.h"

#include <algorithm>
#include <cmath>

namespace oq::phantom {

SlabRenderer::SlabRenderer(const Anatomy& anatomy, PlaneGrid grid, int in_plane_samples, int planes)
    : anatomy_(anatomy), grid_(grid), k_(in_plane_samples), m_(planes), fw_(grid.nx * k_), fh_(grid.ny * k_) {
  const size_t n = static_cast<size_t>(fw_) * static_cast<size_t>(fh_);
  hu_.resize(n);
  suv_.resize(n);
  tissue_.resize(n);
  lesion_.resize(n);
}

void SlabRenderer::paint_plane(double z, Vec3 shift) {
  std::fill(hu_.begin(), hu_.end(), -1000.0f);
  std::fill(suv_.begin(), suv_.end(), 0.0f);
  std::fill(tissue_.begin(), tissue_.end(), static_cast<std::uint8_t>(Tissue::kAir));
  std::fill(lesion_.begin(), lesion_.end(), static_cast<std::int16_t>(-1));
  const double fsx = grid_.spacing_x / k_, fsy = grid_.spacing_y / k_;
  // Centre of fine pixel (i, j), in anatomy coordinates (the patient is shifted on the table).
  const double x0 = grid_.origin_x - grid_.spacing_x / 2 + fsx / 2 - shift.x;
  const double y0 = grid_.origin_y - grid_.spacing_y / 2 + fsy / 2 - shift.y;
  const double za = z - shift.z;
  for (const Structure& st : anatomy_.structures) {
    const auto hu = static_cast<float>(st.hu), suv = static_cast<float>(st.suv);
    const auto tissue = static_cast<std::uint8_t>(st.tissue);
    const auto lesion = static_cast<std::int16_t>(st.lesion);
    auto paint = [&](size_t idx) {
      if (st.only_over != 0 && (st.only_over & (1U << tissue_[idx])) == 0) return;
      hu_[idx] = hu;
      suv_[idx] = suv;
      tissue_[idx] = tissue;
      lesion_[idx] = lesion;
    };
    if (st.section) {
      Ellipse e;
      if (!st.section(za, e) || e.ax <= 0 || e.ay <= 0) continue;
      const int j0 = std::max(0, static_cast<int>(std::floor((e.cy - e.ay - y0) / fsy)));
      const int j1 = std::min(fh_ - 1, static_cast<int>(std::ceil((e.cy + e.ay - y0) / fsy)));
      for (int j = j0; j <= j1; ++j) {
        const double t = (y0 + j * fsy - e.cy) / e.ay;
        if (t * t >= 1) continue;
        const double half = e.ax * std::sqrt(1 - t * t);
        const int i0 = std::max(0, static_cast<int>(std::ceil((e.cx - half - x0) / fsx)));
        const int i1 = std::min(fw_ - 1, static_cast<int>(std::floor((e.cx + half - x0) / fsx)));
        const size_t row = static_cast<size_t>(j) * static_cast<size_t>(fw_);
        for (int i = i0; i <= i1; ++i) paint(row + static_cast<size_t>(i));
      }
    } else if (st.contains) {
      if (za < st.lo.z || za > st.hi.z) continue;
      const int j0 = std::max(0, static_cast<int>(std::floor((st.lo.y - y0) / fsy)));
      const int j1 = std::min(fh_ - 1, static_cast<int>(std::ceil((st.hi.y - y0) / fsy)));
      const int i0 = std::max(0, static_cast<int>(std::floor((st.lo.x - x0) / fsx)));
      const int i1 = std::min(fw_ - 1, static_cast<int>(std::ceil((st.hi.x - x0) / fsx)));
      Ellipse outer, inner;
      const bool ring = st.ring && st.ring(za, outer, inner);
      if (st.ring && !ring) continue;
      // Column range of an ellipse on row y (empty when the row misses it).
      auto span = [&](const Ellipse& e, double y, int& a, int& b) {
        const double t = (y - e.cy) / e.ay;
        if (e.ax <= 0 || e.ay <= 0 || t * t >= 1) return false;
        const double half = e.ax * std::sqrt(1 - t * t);
        a = static_cast<int>(std::floor((e.cx - half - x0) / fsx));
        b = static_cast<int>(std::ceil((e.cx + half - x0) / fsx));
        return true;
      };
      for (int j = j0; j <= j1; ++j) {
        const size_t row = static_cast<size_t>(j) * static_cast<size_t>(fw_);
        const double y = y0 + j * fsy;
        int a = i0, b = i1, ia = 1, ib = 0;
        if (ring) {
          if (!span(outer, y, a, b)) continue;
          a = std::max(a, i0);
          b = std::min(b, i1);
          if (!span(inner, y, ia, ib)) ia = 1, ib = 0;
        }
        for (int i = a; i <= b; ++i) {
          if (i > ia && i < ib) continue;  // inside the inner ellipse
          if (st.contains({x0 + i * fsx, y, za})) paint(row + static_cast<size_t>(i));
        }
      }
    }
  }
}

void SlabRenderer::render(double z, double thickness, Vec3 shift, Slab& out) {
  const size_t n = static_cast<size_t>(grid_.nx) * static_cast<size_t>(grid_.ny);
  std::vector<double> hu(n, 0.0), suv(n, 0.0);
  std::vector<std::int16_t> vote_id(n, -1);
  std::vector<int> votes(n, 0);
  for (int p = 0; p < m_; ++p) {
    const double zp = m_ == 1 ? z : z - thickness / 2 + thickness * (p + 0.5) / m_;
    paint_plane(zp, shift);
    for (int j = 0; j < fh_; ++j) {
      const size_t row = static_cast<size_t>(j) * static_cast<size_t>(fw_);
      const size_t out_row = static_cast<size_t>(j / k_) * static_cast<size_t>(grid_.nx);
      for (int i = 0; i < fw_; ++i) {
        const size_t f = row + static_cast<size_t>(i);
        const size_t o = out_row + static_cast<size_t>(i / k_);
        hu[o] += hu_[f];
        suv[o] += suv_[f];
        if (lesion_[f] >= 0) {
          if (vote_id[o] < 0) vote_id[o] = lesion_[f];
          if (vote_id[o] == lesion_[f]) ++votes[o];
        }
      }
    }
  }
  const double samples = static_cast<double>(k_ * k_ * m_);
  out.hu.resize(n);
  out.suv.resize(n);
  out.lesion.resize(n);
  for (size_t o = 0; o < n; ++o) {
    out.hu[o] = static_cast<float>(hu[o] / samples);
    out.suv[o] = static_cast<float>(suv[o] / samples);
    out.lesion[o] = (votes[o] * 2 >= static_cast<int>(samples)) ? vote_id[o] : static_cast<std::int16_t>(-1);
  }
}

}  // namespace oq::phantom
