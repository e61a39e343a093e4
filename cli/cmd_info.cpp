// oncoquant info: what the inputs hold (cli.md).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "oq/progress.h"
#include "oq/scan.h"

namespace oq::cli {

namespace {

const char* kInfoUsage =
    "usage: oncoquant info PATH... [--json]\n"
    "  Scans files, folders (recursively) and DICOMDIRs. Lists studies and series (patient id, study date,\n"
    "  modality, series UID and description, instances, matrix, spacing, transfer syntaxes; for PET whether\n"
    "  SUV is available and why not), whole-slide images, and every file that could not be used, with the reason.\n"
    "  --json   one JSON document on stdout: studies[].series[], slides[], documents[] (SRs and SEGs: what they\n"
    "           measure or segment, the series they refer to), unreadable[] (path, reason)\n";

nlohmann::json to_json(const SeriesInfo& s) {
  nlohmann::json j;
  j["uid"] = s.uid;
  j["description"] = s.description;
  j["modality"] = s.modality;
  j["sop_class"] = s.sop_class;
  j["number"] = s.number;
  j["frame_of_reference_uid"] = s.frame_of_reference_uid;
  j["loader"] = s.loader;
  j["instances"] = s.instances;
  j["frames"] = s.frames;
  j["matrix"] = s.matrix;
  j["spacing"] = s.spacing;
  j["transfer_syntaxes"] = s.transfer_syntaxes;
  j["loadable"] = s.loadable;
  if (!s.problem.empty()) j["problem"] = s.problem;
  j["warnings"] = s.warnings;
  if (!s.views.empty()) j["views"] = s.views;
  j["origin"] = s.origin;
  j["direction"] = s.direction;
  j["paired_series"] = s.paired_series;
  if (s.pet) {
    nlohmann::json p;
    p["units"] = s.pet->units;
    p["decay_correction"] = s.pet->decay_correction;
    p["suv_available"] = s.pet->suv_bw_available;
    if (!s.pet->suv_bw_available)
      p["suv_unavailable_reason"] = s.pet->suv_bw_reason;
    else
      p["suv_bw_factor"] = s.pet->suv_bw_factor;
    p["sul_lbm_available"] = s.pet->sul_lbm_available;
    if (!s.pet->sul_lbm_available) p["sul_lbm_unavailable_reason"] = s.pet->sul_lbm_reason;
    if (!s.pet->radionuclide.empty()) p["radionuclide"] = s.pet->radionuclide;
    j["pet"] = p;
  }
  return j;
}

nlohmann::json to_json(const Catalog& c) {
  nlohmann::json j;
  j["studies"] = nlohmann::json::array();
  for (const auto& st : c.studies) {
    nlohmann::json js;
    js["patient_id"] = st.patient_id;
    js["study_uid"] = st.study_uid;
    js["study_date"] = st.study_date;
    js["description"] = st.description;
    js["series"] = nlohmann::json::array();
    for (const auto& se : st.series) js["series"].push_back(to_json(se));
    j["studies"].push_back(js);
  }
  j["slides"] = nlohmann::json::array();
  for (const auto& s : c.slides) {
    nlohmann::json js;
    js["path"] = s.path;
    js["vendor"] = s.vendor;
    js["width"] = s.width;
    js["height"] = s.height;
    js["mpp_x"] = s.mpp_x ? nlohmann::json(*s.mpp_x) : nlohmann::json(nullptr);
    js["mpp_y"] = s.mpp_y ? nlohmann::json(*s.mpp_y) : nlohmann::json(nullptr);
    js["levels"] = nlohmann::json::array();
    for (const auto& l : s.levels)
      js["levels"].push_back({{"width", l.width}, {"height", l.height}, {"downsample", l.downsample}});
    j["slides"].push_back(js);
  }
  j["documents"] = nlohmann::json::array();
  for (const auto& d : c.documents) {
    nlohmann::json jd = {{"path", d.path},
                         {"kind", d.kind},
                         {"patient_id", d.patient_id},
                         {"study_uid", d.study_uid},
                         {"series_uid", d.series_uid},
                         {"referenced_series", d.referenced_series}};
    jd["items"] = nlohmann::json::array();
    for (const auto& i : d.items)
      jd["items"].push_back({{"name", i.name}, {"tracking_uid", i.tracking_uid}, {"values", i.values}});
    j["documents"].push_back(jd);
  }
  j["unreadable"] = nlohmann::json::array();
  for (const auto& u : c.unreadable) j["unreadable"].push_back({{"path", u.path}, {"reason", u.reason}});
  return j;
}

std::string fmt_spacing(const std::array<double, 3>& s) {
  std::ostringstream o;
  o.precision(4);
  o << s[0] << " x " << s[1] << " x " << s[2] << " mm";
  return o.str();
}

void print_text(const Catalog& c) {
  for (const auto& st : c.studies) {
    std::printf("Patient %s  study %s  %s\n  study UID %s\n", st.patient_id.empty() ? "(no id)" : st.patient_id.c_str(),
                st.study_date.empty() ? "(no date)" : st.study_date.c_str(), st.description.c_str(), st.study_uid.c_str());
    for (const auto& s : st.series) {
      std::printf("  series %d  %s  \"%s\"\n    UID %s\n", s.number, s.modality.c_str(), s.description.c_str(), s.uid.c_str());
      std::printf("    %s, %zu file%s, %zu x %zu x %zu, spacing %s\n", s.sop_class.c_str(), s.instances,
                  s.instances == 1 ? "" : "s", s.matrix[0], s.matrix[1], s.matrix[2], fmt_spacing(s.spacing).c_str());
      std::string ts;
      for (const auto& t : s.transfer_syntaxes) ts += (ts.empty() ? "" : ", ") + t;
      std::printf("    transfer syntax: %s\n", ts.c_str());
      if (!s.views.empty()) {
        std::string v;
        for (const auto& x : s.views) v += (v.empty() ? "" : ", ") + x;
        std::printf("    views: %s\n", v.c_str());
      }
      if (s.pet) {
        if (s.pet->suv_bw_available)
          std::printf("    PET %s, decay correction %s: SUVbw available%s\n", s.pet->units.c_str(),
                      s.pet->decay_correction.c_str(), s.pet->sul_lbm_available ? ", SULlbm available" : "");
        else
          std::printf("    PET %s: SUV unavailable: %s\n", s.pet->units.c_str(), s.pet->suv_bw_reason.c_str());
      }
      for (const auto& p : s.paired_series) std::printf("    same Frame of Reference as series %s\n", p.c_str());
      if (!s.loadable) std::printf("    NOT LOADABLE: %s\n", s.problem.c_str());
      for (const auto& w : s.warnings) std::printf("    warning: %s\n", w.c_str());
    }
  }
  if (!c.slides.empty()) std::printf("Slides\n");
  for (const auto& s : c.slides) {
    std::printf("  %s  %s  %lld x %lld, %zu level%s, ", s.path.c_str(), s.vendor.c_str(), static_cast<long long>(s.width),
                static_cast<long long>(s.height), s.levels.size(), s.levels.size() == 1 ? "" : "s");
    if (s.mpp_x && s.mpp_y)
      std::printf("%.4f x %.4f um/px\n", *s.mpp_x, *s.mpp_y);
    else
      std::printf("microns per pixel unknown\n");
  }
  if (!c.documents.empty()) std::printf("Reports and segmentations (%zu)\n", c.documents.size());
  for (const auto& d : c.documents) {
    std::printf("  %s  %s  patient %s\n    study UID %s\n", d.path.c_str(), d.kind.c_str(), d.patient_id.c_str(),
                d.study_uid.c_str());
    for (const auto& r : d.referenced_series) std::printf("    refers to series %s\n", r.c_str());
    for (const auto& i : d.items) {
      std::printf("    %s%s\n", i.name.c_str(),
                  i.tracking_uid.empty() ? "" : ("  (tracking UID " + i.tracking_uid + ")").c_str());
      for (const auto& v : i.values) std::printf("      %s\n", v.c_str());
    }
  }
  if (!c.unreadable.empty()) std::printf("Unusable files (%zu)\n", c.unreadable.size());
  for (const auto& u : c.unreadable) std::printf("  %s: %s\n", u.path.c_str(), u.reason.c_str());
}

}  // namespace

int cmd_info(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"--json", "--help", "--quiet"});
  if (args.has("--help")) {
    std::fputs(kInfoUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kInfoUsage);
  if (args.positional().empty()) return usage_fail("info needs at least one PATH", kInfoUsage);
  if (args.has("--quiet")) Progress::set_quiet(true);
  const Catalog c = scan_inputs(args.positional());
  if (args.has("--json"))
    std::cout << dump(to_json(c)) << "\n";
  else
    print_text(c);
  // Nothing usable at all: say so once, as an error, so scripts can tell.
  if (c.studies.empty() && c.slides.empty() && c.documents.empty()) {
    if (c.unreadable.empty()) return fail("no files found in " + args.positional().front());
    return fail(c.unreadable.front().path + ": " + c.unreadable.front().reason);
  }
  return 0;
}

}  // namespace oq::cli
