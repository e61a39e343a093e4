// The HTML page: one self-contained file (inline SVG plots, key images as PNG data), readable offline.
#include <cairo-svg.h>

#include <fstream>
#include <iterator>
#include <string>

#include "drawing.h"
#include "oq/html_report/report_document.h"
#include "oq/plugin.h"

namespace oq::html_report {

namespace {

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string spider_svg(const PatientReport& report, int line) {
  std::string svg;
  cairo_surface_t* s = cairo_svg_surface_create_for_stream(append, &svg, 515, 220);
  cairo_t* cr = cairo_create(s);
  draw_spider_plot(cr, report, line, 0, 0, 515, 220);
  cairo_destroy(cr);
  cairo_surface_finish(s);
  cairo_surface_destroy(s);
  const std::size_t start = svg.find("<svg");
  return start == std::string::npos ? "" : svg.substr(start);
}

std::string key_image_png(const KeyImage& image) {
  std::string png;
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 240, 240);
  cairo_t* cr = cairo_create(s);
  draw_key_image(cr, image, 0, 0, 240);
  cairo_destroy(cr);
  cairo_surface_write_to_png_stream(s, append, &png);
  cairo_surface_destroy(s);
  return "<figure><img alt=\"" + escaped(image.lesion + " " + image.date) + "\" src=\"data:image/png;base64," + base64(png) +
         "\"><figcaption>" + escaped(image.lesion) + "</figcaption></figure>";
}

std::string row(const std::vector<std::string>& cells, const char* tag = "td") {
  std::string out = "<tr>";
  for (const std::string& c : cells) out += std::string("<") + tag + ">" + escaped(c) + "</" + tag + ">";
  return out + "</tr>\n";
}

std::string lines_section(const PatientReport& report) {
  std::string out =
      "<h2>Treatment lines</h2><table>" +
      row({"Line", "Regimen", "Criteria", "Start", "Baseline", "Baseline sum (mm)", "Best response", "PFS (days)"}, "th");
  for (const LineReport& l : report.lines)
    out += row({std::to_string(l.number), l.regimen, l.criteria, l.start_date, l.baseline_date, shown(l.baseline_sum_mm),
                l.best_response.empty() ? "not assessed" : l.best_response,
                l.pfs_days ? std::to_string(*l.pfs_days) + (l.pfs_censored ? " (censored)" : "") : "-"});
  out += "</table>";
  for (const LineReport& l : report.lines) {
    for (const std::string& w : l.warnings)
      out += "<p class=\"warn\">Line " + std::to_string(l.number) + ": " + escaped(w) + "</p>";
    out += "<h3>Line " + std::to_string(l.number) + ": change of each target from baseline</h3>" + spider_svg(report, l.number);
  }
  return out;
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string ihc_section(const IhcPanel& panel) {
  std::string out = "<h2>Biopsy immunohistochemistry</h2><table>" +
                    row({"Marker", "% positive", "H-score", "Allred", "HER2", "Category"}, "th");
  for (const auto& r : ihc_rows(panel)) out += row(r);
  out += "</table><p><b>" + escaped(group_text(panel)) + "</b></p>";
  for (const std::string& f : panel.flags) out += "<p>" + escaped(f) + "</p>";
  out += "<div class=\"keys\">";
  for (const IhcMarker& m : panel.markers)
    if (!m.overlay_png.empty())
      if (const std::string png = file_bytes(m.overlay_png); !png.empty())
        out += "<figure><img style=\"max-width:240px\" alt=\"" + escaped(m.marker) +
               " detections\" src=\"data:image/png;base64," + base64(png) + "\"><figcaption>" + escaped(m.marker) +
               " detections</figcaption></figure>";
  return out + "</div>";
}

std::string time_point_section(const PatientReport& report, const TimePointReport& tp) {
  std::string out = "<h2>" + escaped(tp.date + " - " + tp.time_point_id + " (line " + std::to_string(tp.line) + ")") + "</h2>";
  if (tp.responses) {
    const TimePointResponses& r = *tp.responses;
    out += "<p>Sum " + shown(r.sum_mm) + " mm (" + shown(r.change_from_baseline_pct) + " % from baseline, " +
           shown(r.change_from_nadir_pct) + " % from nadir). Target " + escaped(r.target) + ", non-target " +
           escaped(r.non_target) + ", new lesions " + escaped(r.new_lesions) + ": <b>overall " + escaped(r.overall) + "</b></p>";
  }
  out += "<table>" +
         row({"Lesion", "Role", "Organ", "Status", "Long axis (mm)", "Short axis (mm)", "Volume (ml)", "Method", "Author"}, "th");
  for (const ReportedLesion& l : tp.lesions)
    out += row({l.label, l.role ? to_string(*l.role) : "-", l.organ, to_string(l.value.status), shown(l.value.long_axis_mm),
                shown(l.value.short_axis_mm), shown(l.value.volume_ml, 2), to_string(l.value.method), l.value.author});
  out += "</table><div class=\"keys\">";
  for (const KeyImage& k : report.key_images)
    for (const ReportedLesion& l : tp.lesions)
      if (k.date == tp.date && k.lesion == l.label) out += key_image_png(k);
  return out + "</div>";
}

}  // namespace

Status write_html(const PatientReport& report, const ReportContext& context, const std::string& path) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OncoQuant report " +
                     escaped(report.patient_id) +
                     "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
                     "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}"
                     "th{background:#eee}.warn{color:#a40}.keys{display:flex;flex-wrap:wrap;gap:.5em}figure{margin:0}"
                     "figcaption{font-size:.8em}footer{color:#777;font-size:.8em;margin-top:2em}</style></head><body>\n"
                     "<h1>Response assessment</h1><p>Patient " +
                     escaped(report.patient_id) + " (pseudonymous)</p>\n";
  html += lines_section(report);
  if (report.ihc) html += ihc_section(*report.ihc);
  for (const TimePointReport& tp : report.time_points) html += time_point_section(report, tp);
  html += "<footer>OncoQuant " + escaped(context.software_version) + ", generated " + escaped(context.generated_at) +
          ". Semi-automatic values: every number is for a reader to confirm. Key images: outline yellow, long axis red, "
          "short axis cyan.</footer></body></html>\n";
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << html;
  f.close();
  if (!f) return Error(ErrorCode::kIo, "cannot write the HTML report", path);
  return ok_status();
}

}  // namespace oq::html_report

namespace {

oq::Detection accepts(const std::string&) {
  return oq::Detection::decline("written by `oncoquant report` from the study store, not from a volume");
}
const oq::ExporterOps kOps{accepts, nullptr};

}  // namespace

extern const oq::PluginDescriptor oq_plugin_html_report{
    "html-report",
    oq::PluginKind::kExporter,
    "the report people read: PDF and self-contained HTML (tables, spider plot, key images), with `oncoquant report`",
    0,
    nullptr,
    &kOps};
