// `oncoquant report` (issue 21 part 3): a reader's clicks at two time points of a demo patient,
// recorded with `segment --db`, come out as one DICOM SR TID 1500 and one SEG per time point that the
// real validators accept (dciodvfy, dsrdump) and that an independent reader (pydicom, not DCMTK)
// reads back to the stored values, caliper end points and masks (voxel for voxel); plus the JSON
// and CSV. Bad requests write nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support.h"

namespace {

using namespace oqtest;
using nlohmann::json;

const fs::path kArchive = OQ_PHANTOM_ARCHIVE;
const std::string kPatient = "OQ-DEMO-001";
const fs::path kImages = kArchive / "archive" / kPatient;

// The demo patient's CT at time point `t` and the truth's seed of `lesion` there.
struct Click {
  std::string series, seed, date;
};
Click click_at(int t, const std::string& lesion) {
  const json m = load_json(kArchive / "manifest.json");
  for (const json& p : m["patients"]) {
    if (p["patient_id"] != kPatient) continue;
    const json& tp = p["time_points"][static_cast<std::size_t>(t)];
    const std::string date = tp["date"].get<std::string>();
    const json truth =
        load_json(kArchive / p["truth_path"].get<std::string>() / ("t" + std::to_string(t) + "_" + date) / "ct.truth.json");
    for (const json& l : truth["lesions"])
      if (l["id"] == lesion) return {(kArchive / tp["ct"]["path"].get<std::string>()).string(), point_arg(l["seed_mm"]), date};
  }
  ADD_FAILURE() << "no lesion " << lesion << " at time point " << t;
  return {};
}

// Two time points, two liver targets clicked by a reader at each; each mask also written as NIfTI
// (dir/L1_t0.nii.gz, ...) for the SEG to be checked against.
fs::path store_with_two_time_points(const fs::path& dir) {
  const fs::path db = dir / "study.sqlite";
  for (int t : {0, 1})
    for (const char* lesion : {"L1", "L2"}) {
      const Click c = click_at(t, lesion);
      const fs::path mask = dir / (std::string(lesion) + "_t" + std::to_string(t) + ".nii.gz");
      const CliRun r = oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --db " + quote(db.string()) + " --mask " +
                                 quote(mask.string()) + " --lesion " + lesion + " --organ liver --author dr.reader --quiet");
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  return db;
}

// The SR as OHIF reads it: dcmjs and @cornerstonejs/adapters (tests/ohif/read_sr.mjs).
json read_with_ohif(const fs::path& sr, const fs::path& images) {
  const CliRun r = shell("node " + quote(std::string(OQ_OHIF_DIR) + "/read_sr.mjs") + " " + quote(sr.string()) + " " +
                         quote(images.string()) + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << "node could not run OHIF's adapters (scripts/setup installs them)";
  return r.exit_code == 0 ? json::parse(r.out) : json::object();
}

json read_sr(const fs::path& sr) {
  const CliRun r = shell("/usr/bin/python3 " + quote(std::string(OQ_SOURCE_DIR) + "/tests/tools/read_sr.py") + " " +
                         quote(sr.string()) + " " + quote(kImages.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

const json* group_of(const json& sr, const std::string& label) {
  for (const json& g : sr["groups"])
    if (g.value("label", "") == label) return &g;
  return nullptr;
}

const json* value_of(const json& group, const std::string& name) {
  for (const json& v : group["values"])
    if (v["name"] == name) return &v;
  return nullptr;
}

double distance(const json& a, const json& b) {
  double s = 0;
  for (int i = 0; i < 3; ++i) s += (a[i].get<double>() - b[i].get<double>()) * (a[i].get<double>() - b[i].get<double>());
  return std::sqrt(s);
}

// OHIF opens the lesion as its Bidirectional tool, labelled with the lesion's name, with our long
// and short axes (lengths within 0.1 mm) and our end points (within 0.1 mm) as its handles.
void check_ohif_reads(const json& ohif, const std::string& lesion, const json& stored) {
  const json* tool = nullptr;
  if (ohif.contains("bidirectional"))
    for (const json& b : ohif["bidirectional"])
      if (b["label"] == lesion) tool = &b;
  ASSERT_NE(tool, nullptr) << "OHIF finds no Bidirectional labelled " << lesion << ": " << ohif.dump();
  EXPECT_EQ((*tool)["trackingUid"], stored["tracking_uid"]);
  EXPECT_NEAR((*tool)["length"].get<double>(), stored["long_axis_mm"].get<double>(), 0.1);
  EXPECT_NEAR((*tool)["width"].get<double>(), stored["short_axis_mm"].get<double>(), 0.1);
  const json& p = (*tool)["points"];
  EXPECT_LT(distance(p[0], stored["long_axis"]["endpoints_mm"][0]), 0.1) << lesion;
  EXPECT_LT(distance(p[1], stored["long_axis"]["endpoints_mm"][1]), 0.1) << lesion;
  EXPECT_LT(distance(p[2], stored["short_axis"]["endpoints_mm"][0]), 0.1) << lesion;
  EXPECT_LT(distance(p[3], stored["short_axis"]["endpoints_mm"][1]), 0.1) << lesion;
}

TEST(Report, EachTimePointGetsAnSrAndASegThatTheValidatorsAcceptAndPydicomAndOhifReadBackToTheStoredValues) {
  const fs::path dir = scratch("report_two_time_points");
  const fs::path db = store_with_two_time_points(dir);
  const fs::path out = dir / "out";
  const CliRun r = oncoquant("report --db " + quote(db.string()) + " --patient " + kPatient + " --out " + quote(out.string()) +
                             " --images " + quote(kImages.string()) + " --author dr.reader --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json written = json::parse(r.out);
  EXPECT_TRUE(written["not_written"].empty()) << written.dump();

  std::map<std::string, std::string> tracking_uid_at_baseline;
  for (int t : {0, 1}) {
    const std::string date = click_at(t, "L1").date;
    const fs::path sr = out / (kPatient + "_line1_" + date + "_sr.dcm");
    ASSERT_TRUE(fs::exists(sr)) << sr;
    const CliRun dump = shell("dsrdump " + quote(sr.string()));
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_NE(dump.out.find("Imaging Measurement Report"), std::string::npos);
    const CliRun check = shell("dciodvfy " + quote(sr.string()) + " 2>&1");
    EXPECT_EQ(check.out.find("Error"), std::string::npos) << check.out;

    const json read = read_sr(sr);
    const json ohif = read_with_ohif(sr, kImages);
    const json own_reading = json::parse(oncoquant("info --json --quiet " + quote(sr.string())).out);
    EXPECT_EQ(read["patient_id"], kPatient);
    for (const char* lesion : {"L1", "L2"}) {
      const json* g = group_of(read, lesion);
      ASSERT_NE(g, nullptr) << lesion << " at " << date;
      EXPECT_EQ((*g)["tracking_identifier"].get<std::string>().rfind("Cornerstone3DTools@^0.1.0:Bidirectional", 0), 0u);
      if (t == 0)
        tracking_uid_at_baseline[lesion] = (*g)["tracking_uid"];
      else
        EXPECT_EQ((*g)["tracking_uid"], tracking_uid_at_baseline[lesion]) << "the same lesion keeps its Tracking UID";

      const CliRun h =
          oncoquant("store history --db " + quote(db.string()) + " --patient " + kPatient + " --lesion " + lesion + " --json");
      ASSERT_EQ(h.exit_code, 0) << h.err;
      const json stored = json::parse(h.out)[static_cast<std::size_t>(t)];
      check_ohif_reads(ohif, lesion, stored);
      // And OncoQuant reads its own SR back to the same values (`info` on the SR).
      bool own = false;
      for (const json& item : own_reading["documents"][0]["items"])
        if (item["tracking_uid"] == stored["tracking_uid"]) {
          char expected[64];
          std::snprintf(expected, sizeof expected, "Long Axis %g mm", stored["long_axis_mm"].get<double>());
          for (const json& v : item["values"]) own = own || v.get<std::string>().rfind(expected, 0) == 0;
        }
      EXPECT_TRUE(own) << lesion << ": " << own_reading.dump();
      for (const char* axis : {"long_axis", "short_axis"}) {
        const json* v = value_of(*g, axis == std::string("long_axis") ? "Long Axis" : "Short Axis");
        ASSERT_NE(v, nullptr);
        EXPECT_NEAR((*v)["value"].get<double>(), stored[std::string(axis) + "_mm"].get<double>(), 0.005);
        EXPECT_EQ((*v)["image"], stored[axis]["sop_instance_uid"]);
        // The stored end points (rounded to 0.01 mm) and the SCOORD's, back in patient space.
        EXPECT_LT(distance((*v)["points_mm"][0], stored[axis]["endpoints_mm"][0]), 0.02) << lesion << " " << axis;
        EXPECT_LT(distance((*v)["points_mm"][1], stored[axis]["endpoints_mm"][1]), 0.02) << lesion << " " << axis;
      }
    }
    // The SEG beside it: valid, one segment per lesion, each the reader's mask voxel for voxel.
    const fs::path segfile = out / (kPatient + "_line1_" + date + "_seg.dcm");
    ASSERT_TRUE(fs::exists(segfile)) << segfile;
    const CliRun segcheck = shell("dciodvfy " + quote(segfile.string()) + " 2>&1");
    EXPECT_EQ(segcheck.out.find("Error"), std::string::npos) << segcheck.out;
    const CliRun segread = shell("/usr/bin/python3 " + quote(std::string(OQ_SOURCE_DIR) + "/tests/tools/read_seg.py") + " " +
                                 quote(segfile.string()));
    ASSERT_EQ(segread.exit_code, 0) << segread.err;
    const json seg = json::parse(segread.out);
    EXPECT_EQ(seg["patient_id"], kPatient);
    EXPECT_EQ(seg["study_uid"], read["study_uid"]) << "the SEG joins the imaging study, as the SR does";
    ASSERT_EQ(seg["segments"].size(), 2u);
    for (const json& segment : seg["segments"]) {
      const std::string lesion = segment["label"];
      EXPECT_EQ(segment["tracking_uid"], tracking_uid_at_baseline[lesion]);
      const VolumeData mask = read_volume(dir / (lesion + "_t" + std::to_string(t) + ".nii.gz"));
      const auto expected = mask_points(mask);
      EXPECT_EQ(differing(seg_points(segment), expected), 0u) << lesion << " at " << date << ": the SEG is not the mask";
      EXPECT_GT(expected.size(), 100u);
      // OncoQuant reads its SEG back (convert, onto the series' grid) to the same mask.
      const fs::path back = dir / (lesion + "_from_seg_t" + std::to_string(t) + ".nii.gz");
      const CliRun conv = oncoquant("convert --quiet " + quote(segfile.string()) + " --images " + quote(kImages.string()) +
                                    " --segment " + lesion + " -o " + quote(back.string()));
      ASSERT_EQ(conv.exit_code, 0) << conv.err;
      EXPECT_EQ(differing(mask_points(read_volume(back.string())), expected), 0u) << lesion << ": read back differs";
      // The SR's volume of that lesion names this SEG and this segment.
      const json* g = group_of(read, lesion);
      ASSERT_NE(g, nullptr);
      const json* volume = value_of(*g, "Volume");
      ASSERT_NE(volume, nullptr);
      EXPECT_EQ((*volume)["segment"]["sop_instance_uid"], seg["sop_instance_uid"]);
      EXPECT_EQ((*volume)["segment"]["number"], segment["number"]);
    }
    if (t == 1) {
      EXPECT_FALSE(read["evaluations"].value("RECIST 1.1 overall response", "").empty())
          << "a follow-up carries its responses: " << read["evaluations"].dump();
    }
  }

  // CSV: a header and one row per lesion per time point; JSON: both time points.
  std::ifstream csv(out / (kPatient + "_measurements.csv"));
  std::string line;
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 1 + 2 * 2);
  // The report for people: a summary page and one page per time point, which poppler renders; and
  // one HTML file with the spider plot and a key image per lesion per time point.
  const fs::path pdf = out / (kPatient + "_report.pdf");
  const CliRun info = shell("pdfinfo " + quote(pdf.string()));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("Pages:           3"), std::string::npos) << info.out;
  const CliRun render = shell("pdftoppm -r 40 -png " + quote(pdf.string()) + " " + quote((dir / "page").string()));
  EXPECT_EQ(render.exit_code, 0) << render.err;
  EXPECT_TRUE(fs::exists(dir / "page-1.png") && fs::exists(dir / "page-3.png"));
  const std::string html = read_text(out / (kPatient + "_report.html"));
  EXPECT_NE(html.find("<svg"), std::string::npos);
  std::size_t key_images = 0;
  for (std::size_t at = html.find("data:image/png"); at != std::string::npos; at = html.find("data:image/png", at + 1))
    ++key_images;
  EXPECT_EQ(key_images, 4u) << "L1 and L2 at both time points";
  const json report = load_json(out / (kPatient + "_report.json"));
  ASSERT_EQ(report["time_points"].size(), 2u);
  EXPECT_EQ(report["time_points"][1]["lesions"].size(), 2u);
  EXPECT_FALSE(report["time_points"][1]["overall_response"].get<std::string>().empty());
}

// The first time point's overall response as `recist assess --db` gives it.
std::string first_follow_up_response(const fs::path& db) {
  const CliRun r = oncoquant("recist assess --db " + quote(db.string()) + " --patient " + kPatient);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out)["timepoints"][0]["overall_response"];
}

TEST(ReportRoundTrip, AnSrEditedInOhifComesBackAsTheReadersEditAndTheResponseUsesIt) {
  const fs::path dir = scratch("report_round_trip");
  const fs::path db = store_with_two_time_points(dir), out = dir / "out";
  ASSERT_EQ(oncoquant("report --db " + quote(db.string()) + " --patient " + kPatient + " --out " + quote(out.string()) +
                      " --images " + quote(kImages.string()))
                .exit_code,
            0);
  const std::string date = click_at(1, "L1").date;
  EXPECT_EQ(first_follow_up_response(db), "PR") << "the demo patient's liver targets shrink";

  // In OHIF, the reader redraws L1 at the follow-up twice as long as at baseline: progression.
  const json base = json::parse(
      oncoquant("store history --db " + quote(db.string()) + " --patient " + kPatient + " --lesion L1 --json").out)[0];
  const double edited_long = 2 * base["long_axis_mm"].get<double>(), edited_short = 30.5;
  const fs::path edited = dir / "edited_in_ohif.dcm";
  const CliRun node =
      shell("node " + quote(std::string(OQ_OHIF_DIR) + "/edit_in_ohif.mjs") + " " +
            quote((out / (kPatient + "_line1_" + date + "_sr.dcm")).string()) + " " + quote(kImages.string()) + " L1 " +
            std::to_string(edited_long) + " " + std::to_string(edited_short) + " " + quote(edited.string()) + " 2>&1");
  ASSERT_EQ(node.exit_code, 0) << node.out;

  const CliRun imported = oncoquant("store import-sr " + quote(edited.string()) + " --db " + quote(db.string()) + " --patient " +
                                    kPatient + " --images " + quote(kImages.string()) + " --author dr.ohif");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("1 edited"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("L1"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("location"), std::string::npos) << "OHIF gives the edit a new Tracking UID: " << imported.out;

  const json history =
      json::parse(oncoquant("store history --db " + quote(db.string()) + " --patient " + kPatient + " --lesion L1 --json").out);
  const json& last = history.back();
  EXPECT_EQ(last["method"], "edited");
  EXPECT_EQ(last["author"], "dr.ohif");
  EXPECT_NEAR(last["long_axis_mm"].get<double>(), edited_long, 0.01);
  EXPECT_NEAR(last["short_axis_mm"].get<double>(), edited_short, 0.01);
  EXPECT_EQ(history.size(), 3u) << "the automatic value stays beside the edit";
  EXPECT_EQ(first_follow_up_response(db), "PD") << "the assessment uses the reader's edit";

  const CliRun audit = oncoquant("store audit --db " + quote(db.string()) + " --json");
  EXPECT_NE(audit.out.find("dr.ohif"), std::string::npos) << "the audit log names who edited";

  // The same SR again changes nothing.
  const CliRun again = oncoquant("store import-sr " + quote(edited.string()) + " --db " + quote(db.string()) + " --patient " +
                                 kPatient + " --images " + quote(kImages.string()) + " --author dr.ohif");
  EXPECT_NE(again.out.find("0 edited, 1 unchanged"), std::string::npos) << again.out;
}

TEST(ReportRoundTrip, AnSrOfAnotherPatientOrOfAStudyTheStoreLacksIsRefusedAndChangesNothing) {
  const fs::path dir = scratch("report_import_refused");
  const fs::path db = store_with_two_time_points(dir), out = dir / "out";
  ASSERT_EQ(oncoquant("report --db " + quote(db.string()) + " --patient " + kPatient + " --out " + quote(out.string()) +
                      " --images " + quote(kImages.string()))
                .exit_code,
            0);
  const fs::path sr = out / (kPatient + "_line1_" + click_at(1, "L1").date + "_sr.dcm");
  const std::string audit_before = oncoquant("store audit --db " + quote(db.string()) + " --json").out;

  const CliRun other =
      oncoquant("store import-sr " + quote(sr.string()) + " --db " + quote(db.string()) + " --patient OQ-DEMO-002 --author x");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("the SR is of patient 'OQ-DEMO-001'"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find(sr.filename().string()), std::string::npos) << "the error names the file: " << other.err;

  // A store that holds only the baseline does not know the follow-up's study.
  const fs::path baseline_only = dir / "baseline.sqlite";
  const Click c = click_at(0, "L1");
  ASSERT_EQ(oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --db " + quote(baseline_only.string()) +
                      " --lesion L1 --quiet")
                .exit_code,
            0);
  const CliRun unknown = oncoquant("store import-sr " + quote(sr.string()) + " --db " + quote(baseline_only.string()) +
                                   " --patient " + kPatient + " --author x");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("is not a time point"), std::string::npos) << unknown.err;

  // Not a measurement report at all.
  const CliRun image = oncoquant("store import-sr " + quote(files_under(fs::path(c.series)).front().string()) + " --db " +
                                 quote(db.string()) + " --patient " + kPatient + " --author x");
  EXPECT_EQ(image.exit_code, 1);
  EXPECT_NE(image.err.find("not a DICOM structured report"), std::string::npos) << image.err;
  EXPECT_EQ(oncoquant("store audit --db " + quote(db.string()) + " --json").out, audit_before) << "nothing was written";
}

// The IHC panel: `ihc --json` results given with --ihc are shown with the group they make; a slide
// that could not be scored makes no group.
TEST(Report, TheIhcPanelShowsTheScoresAndTheGroupOnlyFromEvaluableSlides) {
  const fs::path dir = scratch("report_ihc");
  const Click c = click_at(0, "L1");
  const fs::path db = dir / "study.sqlite";
  ASSERT_EQ(oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --db " + quote(db.string()) + " --lesion L1 --quiet")
                .exit_code,
            0);
  const auto result = [&](const std::string& marker, const json& extra) {
    json j = {{"marker", marker}, {"evaluable", true}, {"not_evaluable_reason", nullptr}, {"category", "positive"}};
    j.update(extra);
    const fs::path f = dir / (marker + ".json");
    std::ofstream(f) << j.dump();
    return f.string();
  };
  const std::string er = result("ER", {{"percent_positive", 85.0}, {"h_score", 200.0}});
  const std::string pr = result("PR", {{"percent_positive", 30.0}, {"h_score", 60.0}});
  const std::string her2 = result("HER2", {{"percent_positive", 5.0}, {"her2", {{"score", "0"}, {"category", "null"}}}});
  const fs::path out = dir / "out";
  const CliRun r = oncoquant("report --quiet --db " + quote(db.string()) + " --patient " + kPatient + " --out " +
                             quote(out.string()) + " --ihc " + er + "," + pr + "," + her2);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = read_text(out / (kPatient + "_report.html"));
  EXPECT_NE(html.find("Group 1: HR+/HER2-"), std::string::npos);
  EXPECT_NE(html.find("85.0"), std::string::npos);
  EXPECT_NE(shell("pdfinfo " + quote((out / (kPatient + "_report.pdf")).string())).out.find("Pages:           2"),
            std::string::npos)
      << "the summary with the IHC, and the time point: one page per time point at most plus summary";

  const std::string unscored = result("ER", {{"evaluable", false}, {"not_evaluable_reason", "no tumour cells found"}});
  const fs::path out2 = dir / "out2";
  ASSERT_EQ(oncoquant("report --quiet --db " + quote(db.string()) + " --patient " + kPatient + " --out " + quote(out2.string()) +
                      " --ihc " + unscored + "," + pr + "," + her2)
                .exit_code,
            0);
  const std::string html2 = read_text(out2 / (kPatient + "_report.html"));
  EXPECT_EQ(html2.find("Group "), std::string::npos) << "no group from a slide that could not be scored";
  EXPECT_NE(html2.find("not evaluable"), std::string::npos);
  EXPECT_NE(html2.find("no tumour cells found"), std::string::npos);

  const CliRun bad = oncoquant("report --quiet --db " + quote(db.string()) + " --patient " + kPatient + " --out " +
                               quote((dir / "out3").string()) + " --ihc " + quote((dir / "missing.json").string()));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("missing.json"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "out3"));
}

TEST(Report, AnUnknownPatientIsOneErrorAndWritesNothing) {
  const fs::path dir = scratch("report_unknown_patient");
  const Click c = click_at(0, "L1");
  const fs::path db = dir / "study.sqlite";
  ASSERT_EQ(oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --db " + quote(db.string()) + " --lesion L1 --quiet")
                .exit_code,
            0);
  const fs::path out = dir / "out";
  const CliRun r = oncoquant("report --db " + quote(db.string()) + " --patient NOBODY --out " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("NOBODY"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out)) << "nothing written";
}

TEST(Report, AStoreThatDoesNotExistIsNotCreated) {
  const fs::path dir = scratch("report_no_store");
  const fs::path db = dir / "missing.sqlite", out = dir / "out";
  const CliRun r = oncoquant("report --db " + quote(db.string()) + " --patient " + kPatient + " --out " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.sqlite"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(db));
  EXPECT_FALSE(fs::exists(out));
}

TEST(Report, ImagesOfAnotherPatientAreRefusedAndNothingIsWritten) {
  const fs::path dir = scratch("report_other_patient");
  const fs::path db = store_with_two_time_points(dir);
  // The same files under another patient's name: the SR would join a study that is not the patient's.
  const fs::path copy = dir / "images";
  const Click c = click_at(0, "L1");
  ASSERT_EQ(shell("cp -r " + quote(c.series) + " " + quote(copy.string()) + " && for f in " + quote(copy.string()) +
                  "/*; do dcmodify -nb -m PatientID=SOMEONE-ELSE \"$f\" >/dev/null; done")
                .exit_code,
            0);
  const fs::path out = dir / "out";
  const CliRun r = oncoquant("report --db " + quote(db.string()) + " --patient " + kPatient + " --out " + quote(out.string()) +
                             " --images " + quote(copy.string()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("SOMEONE-ELSE"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out)) << "nothing written";
}

}  // namespace
