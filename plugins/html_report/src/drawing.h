// Pictures shared by the PDF and the HTML report (cairo): the spider plot and the key images.
#pragma once

#include <cairo.h>

#include <string>
#include <utility>
#include <vector>

#include "oq/report.h"

namespace oq::html_report {

// One target's course over a line: (days since the line's baseline, % change from its baseline
// diameter: the long axis, a node's short axis).
struct Course {
  std::string lesion;
  std::vector<std::pair<double, double>> points;
};
std::vector<Course> target_courses(const PatientReport& report, int line);

// The spider plot of a line's targets in the box (x, y, w, h), with the +20 % and -30 % lines of
// RECIST progression and partial response.
void draw_spider_plot(cairo_t* cr, const PatientReport& report, int line, double x, double y, double w, double h);

// The key image with the lesion's outline (yellow), long axis (red) and short axis (cyan), drawn
// into the square (x, y, side) with its label and scale.
void draw_key_image(cairo_t* cr, const KeyImage& image, double x, double y, double side);

// A PNG file drawn to fit the box (x, y, w, h), keeping its proportions; false when it cannot be read.
bool draw_png(cairo_t* cr, const std::string& path, double x, double y, double w, double h);

// The IHC rows as the report shows them: marker, % positive, H-score, Allred, HER2 score, category.
std::vector<std::vector<std::string>> ihc_rows(const IhcPanel& panel);
std::string group_text(const IhcPanel& panel);

// Text at (x, y) (baseline), in points; returns the advance.
double draw_text(cairo_t* cr, const std::string& text, double x, double y, double size, bool bold = false);

// Text made safe inside HTML (elements and attribute values).
std::string escaped(const std::string& s);

// A value as the report shows it: "37.36" for mm, "-" when there is none.
std::string shown(const std::optional<double>& v, int decimals = 1);

}  // namespace oq::html_report
