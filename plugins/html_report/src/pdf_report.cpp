// The PDF: a summary page, then one page per time point (cairo's PDF surface, A4 portrait).
#include <cairo-pdf.h>

#include <vector>

#include "drawing.h"
#include "oq/html_report/report_document.h"

namespace oq::html_report {

namespace {

constexpr double kWidth = 595, kHeight = 842, kMargin = 40;

struct Column {
  const char* title;
  double width;
};

// A table: a bold header row, then the rows; returns the y below it.
double draw_table(cairo_t* cr, double y, const std::vector<Column>& columns, const std::vector<std::vector<std::string>>& rows,
                  double size = 8) {
  double x = kMargin;
  for (const Column& c : columns) {
    draw_text(cr, c.title, x, y, size, true);
    x += c.width;
  }
  cairo_set_line_width(cr, 0.4);
  cairo_move_to(cr, kMargin, y + 3);
  cairo_line_to(cr, kWidth - kMargin, y + 3);
  cairo_stroke(cr);
  for (const auto& row : rows) {
    y += size + 4;
    x = kMargin;
    for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
      std::string cell = row[i];
      const std::size_t fits = static_cast<std::size_t>(columns[i].width / (size * 0.55));
      if (cell.size() > fits && fits > 3) cell = cell.substr(0, fits - 2) + "..";
      draw_text(cr, cell, x, y, size);
      x += columns[i].width;
    }
  }
  return y + size + 10;
}

void footer(cairo_t* cr, const PatientReport& report, const ReportContext& context, int page) {
  cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
  draw_text(cr,
            "OncoQuant " + context.software_version + "  -  " + report.patient_id + "  -  generated " + context.generated_at +
                "  -  page " + std::to_string(page) + "  -  semi-automatic values: every number is for a reader to confirm",
            kMargin, kHeight - 20, 7);
  cairo_set_source_rgb(cr, 0, 0, 0);
}

std::string pfs_text(const LineReport& l) {
  if (!l.pfs_days) return "-";
  return std::to_string(*l.pfs_days) + " d" + (l.pfs_censored ? " (censored)" : "");
}

double summary_tables(cairo_t* cr, const PatientReport& report, double y) {
  std::vector<std::vector<std::string>> lines;
  for (const LineReport& l : report.lines)
    lines.push_back({std::to_string(l.number), l.regimen.empty() ? "-" : l.regimen, l.criteria, l.start_date, l.baseline_date,
                     shown(l.baseline_sum_mm), l.best_response.empty() ? "not assessed" : l.best_response, pfs_text(l)});
  y = draw_table(cr, y,
                 {{"Line", 30},
                  {"Regimen", 110},
                  {"Criteria", 55},
                  {"Start", 60},
                  {"Baseline", 60},
                  {"Sum mm", 45},
                  {"Best response", 70},
                  {"PFS", 85}},
                 lines);
  for (const LineReport& l : report.lines)
    for (const std::string& w : l.warnings) {
      draw_text(cr, "line " + std::to_string(l.number) + ": " + w, kMargin, y, 7);
      y += 10;
    }
  y += 8;
  std::vector<std::vector<std::string>> points;
  for (const TimePointReport& tp : report.time_points) {
    const TimePointResponses* r = tp.responses ? &*tp.responses : nullptr;
    points.push_back({std::to_string(tp.line), tp.date, tp.time_point_id, std::to_string(tp.lesions.size()),
                      r ? shown(r->sum_mm) : "-", r ? shown(r->change_from_baseline_pct) : "-",
                      r ? shown(r->change_from_nadir_pct) : "-", r ? r->target : "-", r ? r->non_target : "-",
                      r ? r->new_lesions : "-", r ? r->overall : "baseline"});
  }
  return draw_table(cr, y,
                    {{"Line", 24},
                     {"Date", 56},
                     {"Time point", 56},
                     {"Lesions", 36},
                     {"Sum mm", 40},
                     {"% base", 38},
                     {"% nadir", 40},
                     {"Target", 36},
                     {"Non-target", 74},
                     {"New", 50},
                     {"Overall", 50}},
                    points);
}

// The IHC block: scores, the group and its flags, and the detection overlays (biopsy cores are long
// strips: one under the other, `strip` points high). Returns the y below it.
double ihc_block(cairo_t* cr, const IhcPanel& panel, double y, double strip) {
  draw_text(cr, "Biopsy immunohistochemistry", kMargin, y, 12, true);
  y = draw_table(cr, y + 18,
                 {{"Marker", 60}, {"% positive", 60}, {"H-score", 50}, {"Allred", 45}, {"HER2", 40}, {"Category", 260}},
                 ihc_rows(panel), 8);
  draw_text(cr, group_text(panel), kMargin, y + 2, 10, true);
  y += 16;
  for (const std::string& f : panel.flags) {
    draw_text(cr, f, kMargin, y, 7);
    y += 10;
  }
  for (const IhcMarker& m : panel.markers) {
    if (m.overlay_png.empty() || y + strip + 14 > kHeight - 40) continue;
    draw_text(cr, m.marker + ": detected cells", kMargin, y + 8, 7, true);
    if (draw_png(cr, m.overlay_png, kMargin, y + 11, kWidth - 2 * kMargin, strip)) y += strip + 14;
  }
  return y;
}

// How tall the IHC block is with overlays `strip` points high.
double ihc_height(const IhcPanel& panel, double strip) {
  double h = 18 + 12 * static_cast<double>(panel.markers.size() + 1) + 16 + 10 * static_cast<double>(panel.flags.size());
  for (const IhcMarker& m : panel.markers)
    if (!m.overlay_png.empty()) h += strip + 14;
  return h;
}

// Returns whether the IHC block found room on it.
bool summary_page(cairo_t* cr, const PatientReport& report, const ReportContext& context) {
  draw_text(cr, "Response assessment", kMargin, 60, 18, true);
  draw_text(cr, "Patient " + report.patient_id + " (pseudonymous)", kMargin, 80, 11);
  double y = summary_tables(cr, report, 110);
  for (const LineReport& l : report.lines) {
    if (y + 230 > kHeight - 40) break;  // the time points' pages follow; the plots fit the first lines
    draw_text(cr, "Line " + std::to_string(l.number) + ": change of each target from baseline", kMargin, y + 10, 10, true);
    draw_spider_plot(cr, report, l.number, kMargin, y + 18, kWidth - 2 * kMargin, 200);
    y += 235;
  }
  // The IHC on this page when it fits, else on a page of its own (write_pdf).
  const bool ihc_here = report.ihc && y + 10 + ihc_height(*report.ihc, 55) < kHeight - 40;
  if (ihc_here) ihc_block(cr, *report.ihc, y + 10, 55);
  footer(cr, report, context, 1);
  return ihc_here;
}

std::string role_of(const ReportedLesion& l) {
  return l.role ? to_string(*l.role) : "-";
}

void time_point_page(cairo_t* cr, const PatientReport& report, const TimePointReport& tp, const ReportContext& context,
                     int page) {
  draw_text(cr, tp.date + "  " + tp.time_point_id + " (line " + std::to_string(tp.line) + ", " + tp.criteria + ")", kMargin, 60,
            15, true);
  double y = 80;
  if (tp.responses) {
    const TimePointResponses& r = *tp.responses;
    draw_text(cr,
              "Sum " + shown(r.sum_mm) + " mm, " + shown(r.change_from_baseline_pct) + " % from baseline, " +
                  shown(r.change_from_nadir_pct) + " % from nadir.  Target " + r.target + ", non-target " + r.non_target +
                  ", new lesions " + r.new_lesions + ":  overall " + r.overall,
              kMargin, y, 9);
    y += 16;
  }
  std::vector<std::vector<std::string>> rows;
  for (const ReportedLesion& l : tp.lesions)
    rows.push_back({l.label, role_of(l), l.organ, to_string(l.value.status), shown(l.value.long_axis_mm),
                    shown(l.value.short_axis_mm), shown(l.value.volume_ml, 2), to_string(l.value.method), l.value.author});
  y = draw_table(cr, y + 6,
                 {{"Lesion", 92},
                  {"Role", 50},
                  {"Organ", 62},
                  {"Status", 58},
                  {"LA mm", 36},
                  {"SA mm", 36},
                  {"Vol ml", 36},
                  {"Method", 48},
                  {"Author", 90}},
                 rows);
  const double side = 160, gap = 7.5;
  int n = 0;
  for (const KeyImage& k : report.key_images) {
    if (k.date != tp.date) continue;
    bool of_this = false;
    for (const ReportedLesion& l : tp.lesions) of_this = of_this || l.label == k.lesion;
    if (!of_this) continue;
    const double x = kMargin + (n % 3) * (side + gap), top = y + (n / 3) * (side + gap);
    if (top + side > kHeight - 40) break;
    draw_key_image(cr, k, x, top, side);
    ++n;
  }
  if (n > 0)
    draw_text(cr, "Key images: outline yellow, long axis red, short axis cyan (" + report.key_images.front().window + ")",
              kMargin, y + ((n + 2) / 3) * (side + gap) + 4, 7);
  footer(cr, report, context, page);
}

}  // namespace

Status write_pdf(const PatientReport& report, const ReportContext& context, const std::string& path) {
  cairo_surface_t* surface = cairo_pdf_surface_create(path.c_str(), kWidth, kHeight);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, ("OncoQuant report " + report.patient_id).c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, ("OncoQuant " + context.software_version).c_str());
  cairo_t* cr = cairo_create(surface);
  const bool ihc_done = summary_page(cr, report, context);
  int page = 1;
  if (report.ihc && !ihc_done) {
    cairo_show_page(cr);
    ihc_block(cr, *report.ihc, 60, 130);
    footer(cr, report, context, ++page);
  }
  for (const TimePointReport& tp : report.time_points) {
    cairo_show_page(cr);
    time_point_page(cr, report, tp, context, ++page);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    return Error(ErrorCode::kIo, std::string("cannot write the PDF: ") + cairo_status_to_string(status), path);
  return ok_status();
}

}  // namespace oq::html_report
