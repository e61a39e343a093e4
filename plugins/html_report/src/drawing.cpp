#include "drawing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace oq::html_report {

namespace {

// Colours that stay apart for up to ten targets.
const double kPalette[][3] = {{0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74},
                              {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}, {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}};

std::optional<double> diameter(const ReportedLesion& l) {
  return l.nodal ? l.value.short_axis_mm : l.value.long_axis_mm;
}

}  // namespace

std::string shown(const std::optional<double>& v, int decimals) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

bool draw_png(cairo_t* cr, const std::string& path, double x, double y, double w, double h) {
  cairo_surface_t* png = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(png) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(png);
    return false;
  }
  const double pw = cairo_image_surface_get_width(png), ph = cairo_image_surface_get_height(png);
  const double k = std::min(w / pw, h / ph);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, k, k);
  cairo_set_source_surface(cr, png, 0, 0);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(png);
  return true;
}

std::vector<std::vector<std::string>> ihc_rows(const IhcPanel& panel) {
  std::vector<std::vector<std::string>> rows;
  for (const IhcMarker& m : panel.markers) {
    if (!m.evaluable) {
      rows.push_back({m.marker, "not evaluable", "", "", "", m.not_evaluable_reason});
      continue;
    }
    rows.push_back({m.marker, shown(m.percent_positive, 1), shown(m.h_score, 0), m.allred ? std::to_string(*m.allred) : "-",
                    m.her2_score.empty() ? "-" : m.her2_score, m.her2_category.empty() ? m.category : "HER2-" + m.her2_category});
  }
  return rows;
}

std::string group_text(const IhcPanel& panel) {
  return panel.group ? "Group " + std::to_string(*panel.group) + ": " + panel.group_label : panel.group_label;
}

double draw_text(cairo_t* cr, const std::string& text, double x, double y, double size, bool bold) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text.c_str());
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_new_path(cr);  // the text leaves a current point a following arc would draw a line from
  return e.x_advance;
}

std::vector<Course> target_courses(const PatientReport& report, int line) {
  std::map<std::string, double> baseline;
  int baseline_day = 0;
  std::vector<Course> out;
  for (const TimePointReport& tp : report.time_points) {
    if (tp.line != line) continue;
    int y = 0, m = 0, d = 0;
    std::sscanf(tp.date.c_str(), "%d-%d-%d", &y, &m, &d);
    // Days from a civil date (Howard Hinnant's algorithm), enough for differences.
    const int yy = y - (m <= 2), era = (yy >= 0 ? yy : yy - 399) / 400, yoe = yy - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const int day = era * 146097 + doe;
    if (tp.baseline) baseline_day = day;
    for (const ReportedLesion& l : tp.lesions) {
      if (l.role != LesionRole::kTarget) continue;
      const auto v = diameter(l);
      if (tp.baseline) {
        if (v && *v > 0) baseline[l.label] = *v;
        continue;
      }
      const auto b = baseline.find(l.label);
      const double now = l.value.status == MeasurementStatus::kAbsent ? 0 : v.value_or(-1);
      if (b == baseline.end() || now < 0) continue;
      auto c = std::find_if(out.begin(), out.end(), [&](const Course& x) { return x.lesion == l.label; });
      if (c == out.end()) {
        out.push_back({l.label, {{0.0, 0.0}}});
        c = out.end() - 1;
      }
      c->points.emplace_back(day - baseline_day, (now - b->second) / b->second * 100);
    }
  }
  return out;
}

void draw_spider_plot(cairo_t* cr, const PatientReport& report, int line, double x, double y, double w, double h) {
  const std::vector<Course> courses = target_courses(report, line);
  double max_day = 30, lo = -100, hi = 40;
  for (const Course& c : courses)
    for (const auto& [d, p] : c.points) {
      max_day = std::max(max_day, d);
      hi = std::max(hi, p + 10);
    }
  const double left = x + 40, right = x + w - 70, top = y + 10, bottom = y + h - 25;
  const auto px = [&](double d) { return left + d / max_day * (right - left); };
  const auto py = [&](double p) { return bottom - (p - lo) / (hi - lo) * (bottom - top); };
  cairo_set_line_width(cr, 0.6);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_stroke(cr);
  for (double p : {-100.0, -50.0, 0.0, 50.0, 100.0, 150.0, 200.0}) {
    if (p > hi) break;
    draw_text(cr, shown(p, 0) + "%", x, py(p) + 3, 7);
  }
  // RECIST thresholds: +20 % progression (dashed red), -30 % partial response (dashed green).
  const double dash[] = {3, 2};
  cairo_set_dash(cr, dash, 2, 0);
  for (const auto& [p, r, g] : {std::tuple<double, double, double>{20, 0.8, 0.1}, {-30, 0.1, 0.6}}) {
    cairo_set_source_rgb(cr, r, g, 0.1);
    cairo_move_to(cr, left, py(p));
    cairo_line_to(cr, right, py(p));
    cairo_stroke(cr);
  }
  cairo_set_dash(cr, nullptr, 0, 0);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_move_to(cr, left, py(0));
  cairo_line_to(cr, right, py(0));
  cairo_stroke(cr);
  draw_text(cr, "days from baseline (0 - " + shown(max_day, 0) + ")", left, bottom + 16, 7);
  for (std::size_t i = 0; i < courses.size(); ++i) {
    const double* c = kPalette[i % 10];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_set_line_width(cr, 1.4);
    for (std::size_t k = 0; k < courses[i].points.size(); ++k) {
      const auto& [d, p] = courses[i].points[k];
      if (k == 0)
        cairo_move_to(cr, px(d), py(p));
      else
        cairo_line_to(cr, px(d), py(p));
    }
    cairo_stroke(cr);
    for (const auto& [d, p] : courses[i].points) {
      cairo_arc(cr, px(d), py(p), 2, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    draw_text(cr, courses[i].lesion, right + 6, top + 10 + 11 * static_cast<double>(i), 8, true);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
}

void draw_key_image(cairo_t* cr, const KeyImage& image, double x, double y, double side) {
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, image.width, image.height);
  unsigned char* data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int r = 0; r < image.height; ++r)
    for (int c = 0; c < image.width; ++c) {
      const std::size_t at = static_cast<std::size_t>(r) * static_cast<std::size_t>(image.width) + static_cast<std::size_t>(c);
      std::uint8_t v = image.grey[at];
      auto* px = reinterpret_cast<std::uint32_t*>(data + r * stride) + c;
      *px = 0xFF000000u | (std::uint32_t{v} << 16) | (std::uint32_t{v} << 8) | v;
      // The outline: mask pixels with a neighbour outside.
      if (!image.inside.empty() && image.inside[at]) {
        const bool edge = c == 0 || r == 0 || c == image.width - 1 || r == image.height - 1 || !image.inside[at - 1] ||
                          !image.inside[at + 1] || !image.inside[at - static_cast<std::size_t>(image.width)] ||
                          !image.inside[at + static_cast<std::size_t>(image.width)];
        if (edge) *px = 0xFFFFD700u;
      }
    }
  cairo_surface_mark_dirty(s);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  const double k = side / image.width;
  cairo_scale(cr, k, k);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
  cairo_paint(cr);
  cairo_set_line_width(cr, 1.5 / k);
  const auto caliper = [&](const std::array<double, 4>& a, double r, double g, double b) {
    cairo_set_source_rgb(cr, r, g, b);
    cairo_move_to(cr, a[0], a[1]);
    cairo_line_to(cr, a[2], a[3]);
    cairo_stroke(cr);
  };
  caliper(image.long_axis, 0.95, 0.15, 0.15);
  if (image.has_short_axis) caliper(image.short_axis, 0.1, 0.8, 0.95);
  cairo_restore(cr);
  cairo_surface_destroy(s);
  // Label and a 10 mm scale bar, on dark bands so that they read on bone too.
  cairo_set_source_rgba(cr, 0, 0, 0, 0.55);
  cairo_rectangle(cr, x, y, side, 16);
  cairo_rectangle(cr, x + side * 0.55, y + side - 22, side * 0.45, 22);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  draw_text(cr, image.lesion + "  " + image.date, x + 4, y + 12, 9, true);
  const double bar = 10 / image.mm_per_pixel * side / image.width;
  cairo_set_line_width(cr, 2);
  cairo_move_to(cr, x + side - 8 - bar, y + side - 8);
  cairo_line_to(cr, x + side - 8, y + side - 8);
  cairo_stroke(cr);
  draw_text(cr, "10 mm", x + side - 8 - bar, y + side - 12, 7);
  cairo_set_source_rgb(cr, 0, 0, 0);
}

std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace oq::html_report
