#include "report_ihc.h"

#include <filesystem>

#include "args.h"
#include "oq/wsi/scoring.h"

namespace oq::cli {

namespace {

Result<IhcMarker> read_marker(const std::string& path) {
  auto j = read_json_file(path);
  if (!j) return j.error();
  if (!j->is_object() || !j->contains("marker") || !(*j)["marker"].is_string())
    return Error(ErrorCode::kInvalidArgument, "not an `oncoquant ihc --json` result (no marker)", path);
  IhcMarker m;
  m.marker = (*j)["marker"].get<std::string>();
  m.evaluable = j->value("evaluable", false);
  if ((*j)["not_evaluable_reason"].is_string()) m.not_evaluable_reason = (*j)["not_evaluable_reason"].get<std::string>();
  if ((*j)["percent_positive"].is_number()) m.percent_positive = (*j)["percent_positive"].get<double>();
  if ((*j)["h_score"].is_number()) m.h_score = (*j)["h_score"].get<double>();
  if (j->contains("allred") && (*j)["allred"].is_object() && (*j)["allred"]["total"].is_number_integer())
    m.allred = (*j)["allred"]["total"].get<int>();
  if ((*j)["category"].is_string()) m.category = (*j)["category"].get<std::string>();
  if (j->contains("her2") && (*j)["her2"].is_object()) {
    m.her2_score = (*j)["her2"].value("score", "");
    m.her2_category = (*j)["her2"].value("category", "");
  }
  const std::filesystem::path overlay =
      path.substr(0, path.size() - std::filesystem::path(path).extension().string().size()) + "_overlay.png";
  std::error_code ec;
  if (std::filesystem::exists(overlay, ec)) m.overlay_png = overlay.string();
  return m;
}

// The group from ER, PR and HER2, as `oncoquant phenotype` gives it; none when one is missing or
// not evaluable (a group is never derived from a slide that could not be scored).
void assign_group(IhcPanel& panel) {
  const IhcMarker *er = nullptr, *pr = nullptr, *her2 = nullptr;
  for (const IhcMarker& m : panel.markers) {
    if (m.marker == "ER") er = &m;
    if (m.marker == "PR") pr = &m;
    if (m.marker == "HER2") her2 = &m;
  }
  if (!er || !pr || !her2 || !er->evaluable || !pr->evaluable || !her2->evaluable || !er->percent_positive ||
      !pr->percent_positive) {
    panel.group_label = "no group: ER, PR and HER2 are not all evaluable";
    return;
  }
  const auto score = wsi::parse_her2_score(her2->her2_score);
  if (!score) {
    panel.group_label = "no group: the HER2 result has no score";
    return;
  }
  wsi::PhenotypeInput in;
  in.er_percent = *er->percent_positive;
  in.pr_percent = *pr->percent_positive;
  in.her2 = *score;
  in.her2_ultralow = her2->her2_category == "ultralow";
  const wsi::Phenotype p = wsi::assign_phenotype(in);
  panel.group = p.group;
  panel.group_label = p.label + " (HR " + p.hr_status + ", HER2 " + p.her2_status + ")";
  panel.flags = p.flags;
}

}  // namespace

Result<IhcPanel> read_ihc_panel(const std::vector<std::string>& files) {
  IhcPanel panel;
  for (const std::string& f : files) {
    auto m = read_marker(f);
    if (!m) return m.error();
    panel.markers.push_back(std::move(*m));
  }
  assign_group(panel);
  return panel;
}

}  // namespace oq::cli
