// The cohort plots (cairo, PNG). Colours by phenotype group are fixed across the three plots so a
// reader learns them once: group 1 HR+/HER2- blue, group 2 HER2+ orange, group 3 triple negative
// green, no group grey.
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "drawing.h"
#include "oq/html_report/cohort.h"
#include "oq/recist/case.h"
#include "oq/recist/survival.h"

namespace oq::html_report {
namespace {

struct Rgb {
  double r, g, b;
};

Rgb group_colour(const std::optional<int>& group) {
  if (!group) return {0.55, 0.55, 0.55};
  switch (*group) {
    case 1:
      return {0.12, 0.40, 0.75};
    case 2:
      return {0.93, 0.49, 0.10};
    case 3:
      return {0.16, 0.60, 0.25};
    default:
      return {0.55, 0.55, 0.55};
  }
}

std::string group_name(const std::optional<int>& group) {
  if (!group) return "no group";
  switch (*group) {
    case 1:
      return "group 1 HR+/HER2-";
    case 2:
      return "group 2 HER2+";
    case 3:
      return "group 3 triple negative";
    default:
      return "no group";
  }
}

Rgb response_colour(const std::string& r) {
  if (r == "CR" || r == "iCR") return {0.10, 0.55, 0.20};
  if (r == "PR" || r == "iPR") return {0.45, 0.75, 0.30};
  if (r == "SD" || r == "iSD" || r == "Non-CR/Non-PD") return {0.95, 0.75, 0.15};
  if (r == "PD" || r == "iUPD" || r == "iCPD") return {0.85, 0.15, 0.15};
  return {0.6, 0.6, 0.6};
}

void colour(cairo_t* cr, const Rgb& c) {
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

struct Canvas {
  Surface surface;
  Context cr;
  Canvas(int w, int h)
      : surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy),
        cr(cairo_create(surface.get()), cairo_destroy) {
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
    cairo_set_source_rgb(cr.get(), 0, 0, 0);
  }
  Status save(const std::string& path) {
    cairo_surface_flush(surface.get());
    if (cairo_surface_write_to_png(surface.get(), path.c_str()) != CAIRO_STATUS_SUCCESS)
      return Error(ErrorCode::kIo, "cannot write the PNG", path);
    return ok_status();
  }
};

void legend_groups(cairo_t* cr, const std::vector<std::optional<int>>& groups, double x, double y) {
  for (const auto& g : groups) {
    colour(cr, group_colour(g));
    cairo_rectangle(cr, x, y - 8, 10, 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    x += 16 + draw_text(cr, group_name(g), x + 14, y, 10) + 8;
  }
}

// The groups that occur, in group order (no group last), for a legend.
std::vector<std::optional<int>> distinct(const std::vector<std::optional<int>>& groups) {
  std::vector<std::optional<int>> out;
  for (const auto& g : groups)
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.value_or(99) < b.value_or(99); });
  return out;
}

const CohortLine* line_of(const CohortCase& c, int number) {
  for (const CohortLine& l : c.lines)
    if (l.number == number && l.not_assessed.empty()) return &l;
  return nullptr;
}

// Days from `from` to `to` (ISO dates); 0 when either cannot be read.
double days_between(const std::string& from, const std::string& to) {
  auto a = recist::parse_date(from), b = recist::parse_date(to);
  return a && b ? static_cast<double>(*b - *a) : 0;
}

void axis_frame(cairo_t* cr, double left, double top, double right, double bottom) {
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_move_to(cr, left, top);
  cairo_line_to(cr, left, bottom);
  cairo_line_to(cr, right, bottom);
  cairo_stroke(cr);
}

}  // namespace

Status write_waterfall_png(const std::vector<CohortCase>& cases, int line, const std::string& path) {
  struct Bar {
    std::string patient;
    double change;
    std::optional<int> group;
  };
  std::vector<Bar> bars;
  for (const CohortCase& c : cases)
    if (const CohortLine* l = line_of(c, line); l && l->best_change_pct)
      bars.push_back({c.patient, *l->best_change_pct, c.group});
  std::sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.change > b.change; });
  const int w = 900, h = 520;
  Canvas canvas(w, h);
  cairo_t* cr = canvas.cr.get();
  draw_text(cr,
            "Best change of the sum of diameters from baseline, line " + std::to_string(line) + " (" +
                std::to_string(bars.size()) + " patients)",
            20, 28, 15, true);
  double hi = 40, lo = -100;
  for (const Bar& b : bars) hi = std::max(hi, b.change + 10);
  const double left = 70, right = w - 20, top = 50, bottom = h - 110;
  const auto py = [&](double p) { return bottom - (p - lo) / (hi - lo) * (bottom - top); };
  for (double p = -100; p <= hi; p += 20) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, left, py(p));
    cairo_line_to(cr, right, py(p));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    draw_text(cr, shown(p, 0) + " %", 20, py(p) + 4, 10);
  }
  const double slot = bars.empty() ? 1 : (right - left) / static_cast<double>(bars.size());
  for (std::size_t i = 0; i < bars.size(); ++i) {
    colour(cr, group_colour(bars[i].group));
    const double x = left + slot * static_cast<double>(i) + slot * 0.15, y0 = py(0), y1 = py(bars[i].change);
    cairo_rectangle(cr, x, std::min(y0, y1), slot * 0.7, std::max(1.0, std::abs(y1 - y0)));
    cairo_fill(cr);
    if (bars.size() <= 40) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      cairo_save(cr);
      cairo_translate(cr, x + slot * 0.35 - 4, bottom + 8);
      cairo_rotate(cr, M_PI / 2);
      draw_text(cr, bars[i].patient, 0, 0, 9);
      cairo_restore(cr);
    }
  }
  // RECIST 1.1: +20 % progression, -30 % partial response.
  const double dash[] = {6, 4};
  cairo_set_dash(cr, dash, 2, 0);
  for (const auto& [p, c] : {std::pair<double, Rgb>{20, {0.8, 0.1, 0.1}}, {-30, {0.1, 0.5, 0.1}}}) {
    colour(cr, c);
    cairo_move_to(cr, left, py(p));
    cairo_line_to(cr, right, py(p));
    cairo_stroke(cr);
  }
  cairo_set_dash(cr, nullptr, 0, 0);
  axis_frame(cr, left, top, right, py(0));
  std::vector<std::optional<int>> groups;
  for (const Bar& b : bars) groups.push_back(b.group);
  legend_groups(cr, distinct(groups), 20, h - 12);
  if (bars.empty()) draw_text(cr, "no patient has an assessed follow-up on this line", left + 20, top + 40, 12);
  return canvas.save(path);
}

Status write_swimmer_png(const std::vector<CohortCase>& cases, const std::string& path) {
  // Lanes: patients with at least one assessed line, by their first line's start.
  struct Lane {
    const CohortCase* c;
    std::string first_start;
  };
  std::vector<Lane> lanes;
  for (const CohortCase& c : cases) {
    std::string first;
    for (const CohortLine& l : c.lines)
      if (l.not_assessed.empty() && (first.empty() || l.start_date < first)) first = l.start_date;
    if (!first.empty()) lanes.push_back({&c, first});
  }
  double max_day = 90;
  for (const Lane& lane : lanes)
    for (const CohortLine& l : lane.c->lines)
      for (const CohortTimePoint& t : l.responses) max_day = std::max(max_day, days_between(lane.first_start, t.date) + 20);
  const int lane_h = 26, w = 1000;
  const int h = 110 + lane_h * static_cast<int>(std::max<std::size_t>(lanes.size(), 1));
  Canvas canvas(w, h);
  cairo_t* cr = canvas.cr.get();
  draw_text(cr, "Treatment lines over time (" + std::to_string(lanes.size()) + " patients)", 20, 28, 15, true);
  const double left = 140, right = w - 30, top = 50, bottom = h - 60;
  const auto px = [&](double d) { return left + d / max_day * (right - left); };
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    const double y = top + lane_h * static_cast<double>(i) + lane_h / 2.0;
    cairo_set_source_rgb(cr, 0, 0, 0);
    draw_text(cr, lanes[i].c->patient, 10, y + 4, 10);
    for (const CohortLine& l : lanes[i].c->lines) {
      if (!l.not_assessed.empty()) continue;
      const double start = days_between(lanes[i].first_start, l.start_date);
      double end = start;
      for (const CohortTimePoint& t : l.responses) end = std::max(end, days_between(lanes[i].first_start, t.date));
      colour(cr, group_colour(lanes[i].c->group));
      cairo_rectangle(cr, px(start), y - 7, std::max(2.0, px(end) - px(start)), 14);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 1, 1, 1);
      draw_text(cr, "L" + std::to_string(l.number), px(start) + 3, y + 4, 9, true);
      for (const CohortTimePoint& t : l.responses) {
        const double x = px(days_between(lanes[i].first_start, t.date));
        colour(cr, response_colour(t.overall_response));
        cairo_new_path(cr);
        cairo_arc(cr, x, y, 5, 0, 2 * M_PI);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, t.new_lesions == "equivocal" ? 2 : 0.7);
        cairo_stroke(cr);
      }
      if (l.progression_date) {  // progression: a red cross
        const double x = px(days_between(lanes[i].first_start, *l.progression_date));
        cairo_set_source_rgb(cr, 0.8, 0, 0);
        cairo_set_line_width(cr, 2.5);
        cairo_move_to(cr, x - 6, y - 11);
        cairo_line_to(cr, x + 6, y + 1);
        cairo_move_to(cr, x + 6, y - 11);
        cairo_line_to(cr, x - 6, y + 1);
        cairo_stroke(cr);
      } else if (l.pfs_censored && !l.responses.empty()) {  // still free of progression: an arrow
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, px(end) + 4, y - 5);
        cairo_line_to(cr, px(end) + 12, y);
        cairo_line_to(cr, px(end) + 4, y + 5);
        cairo_close_path(cr);
        cairo_fill(cr);
      }
    }
  }
  axis_frame(cr, left, top, right, bottom);
  for (double d = 0; d <= max_day; d += max_day > 720 ? 180 : 60) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    draw_text(cr, shown(d, 0), px(d) - 8, bottom + 14, 9);
  }
  draw_text(cr, "days from the first line's start", left, bottom + 30, 10);
  double x = left;
  for (const char* r : {"CR", "PR", "SD", "PD", "NE"}) {
    colour(cr, response_colour(r));
    cairo_new_path(cr);
    cairo_arc(cr, x + 5, h - 14, 5, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    x += 14 + draw_text(cr, r, x + 13, h - 10, 10) + 10;
  }
  draw_text(cr, "thick ring: new lesion awaiting the reader   red cross: progression   arrow: no progression yet", x + 10, h - 10,
            10);
  return canvas.save(path);
}

Status write_kaplan_meier_png(const std::vector<CohortCase>& cases, int line, const std::string& path) {
  std::map<int, std::vector<recist::SurvivalObservation>> by_group;  // -1: no group
  std::map<int, std::optional<int>> group_of;
  double max_day = 90;
  for (const CohortCase& c : cases) {
    const CohortLine* l = line_of(c, line);
    if (!l || !l->pfs_days) continue;
    const int key = c.group.value_or(-1);
    by_group[key].push_back({static_cast<double>(*l->pfs_days), !l->pfs_censored});
    group_of[key] = c.group;
    max_day = std::max(max_day, static_cast<double>(*l->pfs_days) + 10);
  }
  const int w = 900, rows = static_cast<int>(std::max<std::size_t>(by_group.size(), 1)), h = 470 + 18 * rows;
  Canvas canvas(w, h);
  cairo_t* cr = canvas.cr.get();
  draw_text(cr, "Progression-free survival, line " + std::to_string(line) + " (Kaplan-Meier, by phenotype group)", 20, 28, 15,
            true);
  const double left = 70, right = w - 30, top = 50, bottom = 380;
  const auto px = [&](double d) { return left + d / max_day * (right - left); };
  const auto py = [&](double s) { return bottom - s * (bottom - top); };
  for (double s = 0; s <= 1.0001; s += 0.25) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, left, py(s));
    cairo_line_to(cr, right, py(s));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    draw_text(cr, shown(s * 100, 0) + " %", 20, py(s) + 4, 10);
  }
  const double tick = max_day > 720 ? 180 : max_day > 240 ? 90 : 30;
  int row = 0;
  draw_text(cr, "at risk", 10, bottom + 50, 10, true);
  for (const auto& [key, obs] : by_group) {
    const recist::KaplanMeier km = recist::kaplan_meier(obs);
    colour(cr, group_colour(group_of[key]));
    cairo_set_line_width(cr, 2);
    cairo_new_path(cr);
    double x = px(0), s = 1;
    cairo_move_to(cr, x, py(s));
    for (const recist::KaplanMeierStep& step : km.steps) {
      cairo_line_to(cr, px(step.days), py(s));
      s = step.survival;
      cairo_line_to(cr, px(step.days), py(s));
    }
    cairo_stroke(cr);
    for (const recist::KaplanMeierStep& step : km.steps)
      if (step.censored > 0) {  // censoring ticks
        cairo_new_path(cr);
        cairo_move_to(cr, px(step.days), py(step.survival) - 5);
        cairo_line_to(cr, px(step.days), py(step.survival) + 5);
        cairo_stroke(cr);
      }
    const double y = bottom + 68 + 18 * row++;
    draw_text(cr, group_name(group_of[key]).substr(0, 7), 10, y, 9, true);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (double d = 0; d <= max_day; d += tick) draw_text(cr, std::to_string(km.at_risk_at(d)), px(d) - 4, y, 10);
    const std::string median = km.median_days ? shown(*km.median_days, 0) + " days" : "not reached";
    colour(cr, group_colour(group_of[key]));
    draw_text(cr, group_name(group_of[key]) + ": n " + std::to_string(km.subjects) + ", median PFS " + median, right - 330,
              top + 16 + 16 * (row - 1), 10);
  }
  axis_frame(cr, left, top, right, bottom);
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (double d = 0; d <= max_day; d += tick) draw_text(cr, shown(d, 0), px(d) - 8, bottom + 16, 9);
  draw_text(cr, "days from the line's start", left, bottom + 32, 10);
  if (by_group.empty()) draw_text(cr, "no patient has a PFS on this line", left + 20, top + 40, 12);
  return canvas.save(path);
}

}  // namespace oq::html_report
