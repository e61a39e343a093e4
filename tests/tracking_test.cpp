// `oncoquant track` on the demo archive's courses: every baseline lesion of every treatment line
// followed to every follow-up of that line, against the generator's truth at that time point
// (which lesion is where, its long axis, whether it is still there), PET candidates against the
// new lesions the courses contain, and the responses computed from the proposals against the
// designed course - both as a case built from the proposals and through the study store, where
// `track --db` records them and a reader's review (non-targets, candidates) completes them.
// Prints the table it judges.
#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kArchive = OQ_PHANTOM_ARCHIVE;

// The truth label at an LPS point (or in the 3 x 3 x 3 voxels around it), 0 for none.
int label_at(const oqtest::VolumeData& v, const json& p) {
  double d[3];
  for (int a = 0; a < 3; ++a) d[a] = p[a].get<double>() - v.origin[static_cast<size_t>(a)];
  double idx[3];
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += v.direction[static_cast<size_t>(r * 3 + c)] * d[r];
    idx[c] = s / v.spacing[static_cast<size_t>(c)];
  }
  std::map<int, int> votes;
  for (int dk = -1; dk <= 1; ++dk)
    for (int dj = -1; dj <= 1; ++dj)
      for (int di = -1; di <= 1; ++di) {
        const long i = std::lround(idx[0]) + di, j = std::lround(idx[1]) + dj, k = std::lround(idx[2]) + dk;
        if (i < 0 || j < 0 || k < 0 || i >= static_cast<long>(v.size[0]) || j >= static_cast<long>(v.size[1]) ||
            k >= static_cast<long>(v.size[2]))
          continue;
        const int l = static_cast<int>(
            v.voxels[(static_cast<size_t>(k) * v.size[1] + static_cast<size_t>(j)) * v.size[0] + static_cast<size_t>(i)]);
        if (l > 0) ++votes[l];
      }
  int best = 0, most = 0;
  for (const auto& [l, n] : votes)
    if (n > most) {
      best = l;
      most = n;
    }
  return best;
}

fs::path truth_dir(const json& patient, const json& tp) {
  return kArchive / patient["truth_path"].get<std::string>() /
         ("t" + std::to_string(tp["index"].get<int>()) + "_" + tp["date"].get<std::string>());
}

const json* lesion_truth(const json& truth, const std::string& id) {
  for (const auto& l : truth["lesions"])
    if (l["id"] == id) return &l;
  return nullptr;
}

TEST(Tracking, DemoArchiveCourses) {
  const json manifest = oqtest::load_json(kArchive / "manifest.json");
  int targets_due = 0, tracked_right = 0, vanished_due = 0, vanished_flagged = 0, la_checked = 0, la_within = 0;
  int new_due = 0, new_found = 0, false_candidates = 0, timepoints = 0, responses_right = 0;
  int store_timepoints = 0, store_responses_right = 0;
  std::printf("%-11s %-4s %-10s %-4s %-10s %8s %8s %6s %s\n", "patient", "line", "date", "id", "status", "LA true", "LA prop",
              "conf", "");
  for (const auto& patient : manifest["patients"]) {
    const std::string pid = patient["patient_id"];
    const json& tps = patient["time_points"];
    auto tp_of = [&](const std::string& date) -> const json& {
      for (const auto& t : tps)
        if (t["date"] == date) return t;
      throw std::runtime_error("no time point on " + date);
    };
    const fs::path tdir = kArchive / patient["truth_path"].get<std::string>();
    const json course_truth = oqtest::load_json(tdir / "recist.truth.json");
    for (const auto& line : course_truth["lines"]) {
      const int n = line["line"];
      json c = oqtest::load_json(tdir / ("recist-case-line" + std::to_string(n) + ".json"));
      const json& base_tp = tp_of(c["baseline"]["date"]);
      const json base_truth = oqtest::load_json(truth_dir(patient, base_tp) / "ct.truth.json");
      // The baseline lesions with their seeds on the baseline CT (blastic bone has no soft tissue to follow).
      json seeds = json::array();
      for (const auto& l : c["baseline"]["lesions"])
        if (l.value("bone", "") != "blastic")
          seeds.push_back({{"id", l["id"]},
                           {"seed_mm", (*lesion_truth(base_truth, l["id"]))["seed_mm"]},
                           {"nodal", l.value("nodal", false)}});
      const fs::path seeds_file = oqtest::scratch("tracking-" + pid + "-" + std::to_string(n)) / "seeds.json";
      std::ofstream(seeds_file) << seeds.dump();

      // The study store starts with the line's baseline, as the reader measured it.
      const fs::path db = oqtest::scratch("tracking-store-" + pid + "-" + std::to_string(n)) / "study.sqlite";
      {
        json baseline_only = c;
        baseline_only["followups"] = json::array();
        const fs::path f = db.parent_path() / "baseline.json";
        std::ofstream(f) << baseline_only.dump();
        const auto imported =
            oqtest::oncoquant("store import-case " + oqtest::quote(f.string()) + " --db " + oqtest::quote(db.string()) +
                              " --patient " + pid + " --line " + std::to_string(n) + " --author reader");
        ASSERT_EQ(imported.exit_code, 0) << imported.err;
      }
      // One run over every follow-up of the line: each a PET-CT study folder, so its PET is
      // searched for new uptake and the baseline's PET tells what was there already.
      std::string followups;
      for (const auto& f : c["followups"])
        followups += " " + oqtest::quote((kArchive / tp_of(f["date"])["ct"]["path"].get<std::string>()).parent_path().string());
      const auto run = oqtest::oncoquant(
          "track " + oqtest::quote((kArchive / base_tp["ct"]["path"].get<std::string>()).parent_path().string()) + followups +
          " --lesions " + oqtest::quote(seeds_file.string()) + " --db " + oqtest::quote(db.string()) +
          " --author tracker --json");
      ASSERT_EQ(run.exit_code, 0) << run.err;
      const json tracked = json::parse(run.out);
      ASSERT_EQ(tracked["followups"].size(), c["followups"].size());

      // PERCIST beside RECIST: the hottest known lesion's SULpeak on each PET. Its direction is
      // checked against the generator's noise-free maxima of the same lesions where the change is
      // clear (a fall beyond 45 %: a metabolic response; within 15 %: stable disease).
      ASSERT_TRUE(tracked.contains("percist")) << tracked.value("percist_note", std::string());
      const json& percist = tracked["percist"];
      ASSERT_EQ(percist["timepoints"].size(), c["followups"].size());
      auto hottest = [](const json& peaks) {
        double h = 0;
        for (const auto& [id, v] : peaks.items())
          if (v.is_number()) h = std::max(h, v.get<double>());
        return h;
      };
      EXPECT_DOUBLE_EQ(percist["baseline"]["sul_peak"].get<double>(), hottest(percist["baseline"]["lesion_sul_peaks"]));
      std::set<std::string> known;  // the tracked lesions: new ones are not PERCIST's hottest here
      for (const auto& s : seeds) known.insert(s["id"].get<std::string>());
      auto noise_free_max = [&](const json& tp) {
        const json pet_truth = oqtest::load_json(truth_dir(patient, tp) / "pet.truth.json");
        double h = 0;
        for (const auto& l : pet_truth["lesions"])
          if (l["present"].get<bool>() && known.count(l["id"].get<std::string>()))
            h = std::max(h, l["suv_max_noise_free"].get<double>());
        return h;
      };
      const double base_max = noise_free_max(base_tp);
      for (size_t f = 0; f < c["followups"].size(); ++f) {
        const json& t = percist["timepoints"][f];
        EXPECT_DOUBLE_EQ(t["sul_peak"].get<double>(), hottest(t["lesion_sul_peaks"]));
        const double change = noise_free_max(tp_of(c["followups"][f]["date"])) / base_max - 1;
        const std::string response = t["response"];
        std::printf("%-11s PERCIST %s: SULpeak %.2f -> %.2f (%s), noise-free max of the known lesions %+.0f %%\n", pid.c_str(),
                    t["date"].get<std::string>().c_str(), percist["baseline"]["sul_peak"].get<double>(),
                    t["sul_peak"].get<double>(), response.c_str(), 100 * change);
        if (change <= -0.45) {
          EXPECT_TRUE(response == "PMR" || response == "CMR") << pid << " " << t.dump();
        } else if (std::abs(change) <= 0.15) {
          EXPECT_EQ(response, "SMD") << pid << " " << t.dump();
        }
      }

      json proposed_case = c;  // the designed case with measurements replaced by the proposals
      bool baseline_done = false;
      for (size_t f = 0; f < c["followups"].size(); ++f) {
        const json& fu_tp = tp_of(c["followups"][f]["date"]);
        const json fu_truth = oqtest::load_json(truth_dir(patient, fu_tp) / "ct.truth.json");
        const oqtest::VolumeData labels =
            oqtest::read_volume((truth_dir(patient, fu_tp) / fu_truth["label_map"].get<std::string>()).string());
        const json& out = tracked["followups"][f];
        EXPECT_EQ(out["study_date"], fu_tp["date"]);
        ASSERT_TRUE(out.contains("store")) << out.dump();
        // Registration: the generator's table shifts give the true translation.
        const json& s0 = base_truth["table_shift_mm"];
        const json& s1 = fu_truth["table_shift_mm"];
        for (int a = 0; a < 3; ++a)
          EXPECT_NEAR(out["registration"]["translation_mm"][a].get<double>(), s1[a].get<double>() - s0[a].get<double>(), 1.5)
              << pid << " " << fu_tp["date"] << " axis " << a;

        json& fu_case = proposed_case["followups"][f];
        for (const auto& l : out["lesions"]) {
          const std::string id = l["id"];
          const json* t = lesion_truth(fu_truth, id);
          ASSERT_NE(t, nullptr) << id;
          const bool target = fu_case["targets"].contains(id);
          const bool present = (*t)["present"].get<bool>();
          std::string status = l["status"];
          double la_true = present ? (*t)["recist_diameter_mm"].get<double>() : 0;
          if (!baseline_done && target) {
            for (auto& bl : proposed_case["baseline"]["lesions"])
              if (bl["id"] == id) {
                if (bl.value("nodal", false))
                  bl["short_axis_mm"] = l["baseline_short_axis_mm"];  // replaced below by the largest SA when found
                else
                  bl["long_axis_mm"] = l["baseline_long_axis_mm"];
              }
          }
          bool right = false;
          if (present) {
            ++targets_due;
            right =
                status == "found" &&
                label_at(
                    labels,
                    json::array(
                        {(l["long_axis_endpoints_mm"][0][0].get<double>() + l["long_axis_endpoints_mm"][1][0].get<double>()) / 2,
                         (l["long_axis_endpoints_mm"][0][1].get<double>() + l["long_axis_endpoints_mm"][1][1].get<double>()) / 2,
                         (l["long_axis_endpoints_mm"][0][2].get<double>() + l["long_axis_endpoints_mm"][1][2].get<double>()) /
                             2})) == (*t)["label"].get<int>();
            if (right) ++tracked_right;
            if (right && la_true >= 10) {
              ++la_checked;
              if (std::abs(l["recist_diameter_mm"].get<double>() - la_true) <= std::max(1.0, 0.05 * la_true)) ++la_within;
            }
          } else {
            ++vanished_due;
            if (status == "not-found") ++vanished_flagged;
          }
          if (target) {
            json m;
            if (status == "found")
              m = l.value("nodal", false) ? json{{"short_axis_mm", l["largest_short_axis_mm"]}}
                                          : json{{"long_axis_mm", l["long_axis_mm"]}};
            else
              m = {{"status", "absent"}};  // proposed; flagged for the reader
            fu_case["targets"][id] = m;
          }
          const bool off_lesion = present && status == "found" && !right;
          std::printf("%-11s %-4d %-10s %-4s %-10s %8.2f %8.2f %6.2f %s%s\n", pid.c_str(), n,
                      fu_tp["date"].get<std::string>().c_str(), id.c_str(), status.c_str(), la_true,
                      l.contains("recist_diameter_mm") ? l["recist_diameter_mm"].get<double>() : 0.0, l.value("confidence", 0.0),
                      off_lesion ? "NOT ON THE TRUE LESION " : "", l["note"].get<std::string>().c_str());
        }
        baseline_done = true;
        // New lesions: the designed ones against the PET candidates (within 15 mm).
        const json& designed_new = line["followups"][f]["new_lesions"];
        json proposed_new = json::array();
        int k = 0;
        for (const auto& cand : out["candidate_new_lesions"]) {
          bool matches = false;
          for (const auto& id : designed_new) {
            const json* t = lesion_truth(fu_truth, id);
            double d2 = 0;
            for (int a = 0; a < 3; ++a) d2 += std::pow(cand["hottest_mm"][a].get<double>() - (*t)["seed_mm"][a].get<double>(), 2);
            if (std::sqrt(d2) <= 15) matches = true;
          }
          if (!matches) ++false_candidates;
          proposed_new.push_back({{"id", "P" + std::to_string(++k)}, {"organ", "unknown"}});
        }
        for (const auto& id : designed_new) {
          ++new_due;
          const json* t = lesion_truth(fu_truth, id);
          for (const auto& cand : out["candidate_new_lesions"]) {
            double d2 = 0;
            for (int a = 0; a < 3; ++a) d2 += std::pow(cand["hottest_mm"][a].get<double>() - (*t)["seed_mm"][a].get<double>(), 2);
            if (std::sqrt(d2) <= 15) {
              ++new_found;
              break;
            }
          }
        }
        if (!proposed_new.empty()) fu_case["new_lesions"] = proposed_new;

        // The reader's review in the store: the non-targets' status is the reader's call (the
        // design's here); a candidate is confirmed when it is one of the course's new lesions and
        // rejected when it is not.
        const std::string date = fu_tp["date"];
        auto reader = [&](const std::string& label, const std::string& status) {
          const auto r =
              oqtest::oncoquant("store measure --db " + oqtest::quote(db.string()) + " --patient " + pid + " --lesion " + label +
                                " --date " + date + " --status " + status + " --method manual --author reader");
          EXPECT_EQ(r.exit_code, 0) << label << " " << date << ": " << r.err;
        };
        for (const auto& [label, status] : c["followups"][f]["non_targets"].items()) reader(label, status.get<std::string>());
        const json& labels_in_store = out["store"]["candidate_new_lesions"];
        ASSERT_EQ(labels_in_store.size(), out["candidate_new_lesions"].size());
        for (size_t i = 0; i < labels_in_store.size(); ++i) {
          bool designed = false;
          for (const auto& id : designed_new) {
            const json* t = lesion_truth(fu_truth, id);
            double d2 = 0;
            for (int a = 0; a < 3; ++a)
              d2 +=
                  std::pow(out["candidate_new_lesions"][i]["hottest_mm"][a].get<double>() - (*t)["seed_mm"][a].get<double>(), 2);
            designed = designed || std::sqrt(d2) <= 15;
          }
          reader(labels_in_store[i], designed ? "present" : "absent");
        }
      }
      // Responses from the store: the tracker's proposals for the targets, the reader's decisions.
      // The targets' values are still the tracker's: each follow-up is flagged until the reader
      // confirms it.
      {
        const std::string assess_cmd =
            "recist assess --db " + oqtest::quote(db.string()) + " --patient " + pid + " --line " + std::to_string(n);
        auto unreviewed = [](const json& a) {
          int n_flags = 0;
          for (const auto& w : a["warnings"]) n_flags += w.get<std::string>().find("not yet reviewed") != std::string::npos;
          return n_flags;
        };
        auto before = oqtest::oncoquant(assess_cmd);
        ASSERT_EQ(before.exit_code, 0) << before.err;
        EXPECT_EQ(unreviewed(json::parse(before.out)), static_cast<int>(c["followups"].size())) << before.out;
        for (const auto& f : c["followups"]) {
          const auto r = oqtest::oncoquant("store review --db " + oqtest::quote(db.string()) + " --patient " + pid + " --date " +
                                           f["date"].get<std::string>() + " --state confirmed --author reader");
          EXPECT_EQ(r.exit_code, 0) << r.err;
        }
        const auto assessed = oqtest::oncoquant(assess_cmd);
        ASSERT_EQ(assessed.exit_code, 0) << assessed.err;
        const json a = json::parse(assessed.out);
        EXPECT_EQ(unreviewed(a), 0) << assessed.out;
        ASSERT_EQ(a["timepoints"].size(), line["followups"].size()) << pid << " line " << n;
        for (size_t f = 0; f < line["followups"].size(); ++f) {
          ++store_timepoints;
          const bool same = a["timepoints"][f]["overall_response"] == line["followups"][f]["overall_response"];
          store_responses_right += same;
          EXPECT_TRUE(same) << pid << " line " << n << " " << line["followups"][f]["date"] << ": from the store "
                            << a["timepoints"][f]["overall_response"] << ", designed "
                            << line["followups"][f]["overall_response"];
        }
      }
      // Nodes are followed by their largest short axis: the baseline's too.
      // Responses from the proposals.
      const fs::path proposed_file = oqtest::scratch("tracking-case-" + pid + "-" + std::to_string(n)) / "case.json";
      std::ofstream(proposed_file) << proposed_case.dump(2);
      const auto assessed = oqtest::oncoquant("recist assess " + oqtest::quote(proposed_file.string()));
      ASSERT_EQ(assessed.exit_code, 0) << assessed.err;
      const json a = json::parse(assessed.out);
      for (size_t f = 0; f < line["followups"].size(); ++f) {
        ++timepoints;
        const bool same = a["timepoints"][f]["overall_response"] == line["followups"][f]["overall_response"];
        responses_right += same;
        EXPECT_TRUE(same) << pid << " line " << n << " " << line["followups"][f]["date"] << ": proposed "
                          << a["timepoints"][f]["overall_response"] << ", designed " << line["followups"][f]["overall_response"];
      }
    }
  }
  std::printf(
      "tracked to the right lesion: %d/%d; vanished lesions flagged: %d/%d; RECIST diameter within max(1 mm, 5%%): %d/%d;\n"
      "new lesions among PET candidates: %d/%d (other candidates: %d); responses from proposals = design: %d/%d;\n"
      "through the study store after the reader's review: %d/%d\n",
      tracked_right, targets_due, vanished_flagged, vanished_due, la_within, la_checked, new_found, new_due, false_candidates,
      responses_right, timepoints, store_responses_right, store_timepoints);
  // Acceptance (issue 5): >= 95 % tracked to the right lesion, responses equal to the design.
  EXPECT_GE(tracked_right * 100, targets_due * 95);
  EXPECT_EQ(vanished_flagged, vanished_due);
  EXPECT_EQ(new_found, new_due);
  EXPECT_EQ(responses_right, timepoints);
  EXPECT_EQ(store_responses_right, store_timepoints);
  // The proposed diameters meet lesion/'s accuracy: 95 % within max(1 mm, 5 %).
  EXPECT_GE(la_within * 100, la_checked * 95);
}

// Refusals: each names the input and the reason; `track` writes no file, so nothing is left over.
// kill -9 at 20 moments of `track --db` (spread over a whole run: registration, segmentation, the
// store's transaction): every store stays consistent (SQLite's own check) and holds either the
// baseline alone or the whole follow-up, never part of it; a rerun after a kill completes it.
TEST(Tracking, KillNineDuringTrackDbLeavesTheBaselineOrTheWholeFollowUp) {
  const json manifest = oqtest::load_json(kArchive / "manifest.json");
  const json& patient = manifest["patients"][0];
  const std::string pid = patient["patient_id"];
  const json& tps = patient["time_points"];
  const std::string base = oqtest::quote((kArchive / tps[0]["ct"]["path"].get<std::string>()).string());
  const std::string fu = oqtest::quote((kArchive / tps[1]["ct"]["path"].get<std::string>()).string());
  const fs::path dir = oqtest::scratch("tracking-kill");
  const fs::path seeds = dir / "seeds.json";
  std::ofstream(seeds) << patient["baseline_lesion_seeds"].dump();
  const fs::path tdir = kArchive / patient["truth_path"].get<std::string>();
  json c = oqtest::load_json(tdir / "recist-case-line1.json");
  c["followups"] = json::array();
  std::ofstream(dir / "baseline.json") << c.dump();
  const fs::path baseline_db = dir / "baseline.sqlite";
  ASSERT_EQ(oqtest::oncoquant("store import-case " + oqtest::quote((dir / "baseline.json").string()) + " --db " +
                              oqtest::quote(baseline_db.string()) + " --patient " + pid + " --line 1 --author reader")
                .exit_code,
            0);
  const auto rows = [](const fs::path& db) {
    return oqtest::shell("sqlite3 " + oqtest::quote(db.string()) + " 'SELECT COUNT(*) FROM measurements'").out;
  };
  // --rigid: the same phases (loading, registration, segmentation, the store's transaction) in about
  // half the time; what is checked is the store under a kill, not the affine stage's accuracy (the
  // courses test above checks that).
  const std::string track = oqtest::quote(oqtest::oncoquant_binary()) + " track --quiet --rigid " + base + " " + fu +
                            " --lesions " + oqtest::quote(seeds.string()) + " --author tracker --db ";
  // An uninterrupted run: how long it takes and what it leaves.
  const fs::path whole_db = dir / "whole.sqlite";
  fs::copy_file(baseline_db, whole_db);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(oqtest::shell(track + oqtest::quote(whole_db.string()) + " >/dev/null").exit_code, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string baseline_rows = rows(baseline_db), whole_rows = rows(whole_db);
  ASSERT_NE(baseline_rows, whole_rows);
  int killed_before_commit = 0;
  for (int i = 0; i < 20; ++i) {
    const fs::path db = dir / ("killed-" + std::to_string(i) + ".sqlite");
    fs::copy_file(baseline_db, db);
    const std::string delay = std::to_string(seconds * (i + 1) / 21);
    oqtest::shell("{ " + track + oqtest::quote(db.string()) + " >/dev/null & pid=$!; sleep " + delay +
                  "; kill -9 $pid; wait $pid; } 2>/dev/null");
    EXPECT_EQ(oqtest::shell("sqlite3 " + oqtest::quote(db.string()) + " 'PRAGMA integrity_check;'").out, "ok\n") << "kill " << i;
    const std::string now = rows(db);
    EXPECT_TRUE(now == baseline_rows || now == whole_rows) << "kill " << i << ": " << now << " rows, part of a follow-up";
    if (now == baseline_rows) ++killed_before_commit;
  }
  EXPECT_GT(killed_before_commit, 0);
  // After a kill the reader simply runs it again.
  const fs::path db = dir / "killed-0.sqlite";
  ASSERT_EQ(oqtest::shell(track + oqtest::quote(db.string()) + " >/dev/null").exit_code, 0);
  EXPECT_EQ(rows(db), whole_rows);
}

TEST(Tracking, BadInputIsRefusedNamingIt) {
  const json manifest = oqtest::load_json(kArchive / "manifest.json");
  const json& tps = manifest["patients"][0]["time_points"];
  const std::string base = (kArchive / tps[0]["ct"]["path"].get<std::string>()).string();
  const std::string fu = (kArchive / tps[1]["ct"]["path"].get<std::string>()).string();
  const std::string pet = (kArchive / tps[1]["pet"]["path"].get<std::string>()).string();
  const fs::path dir = oqtest::scratch("tracking-bad");
  const fs::path seeds = dir / "seeds.json";
  std::ofstream(seeds) << manifest["patients"][0]["baseline_lesion_seeds"].dump();
  const fs::path broken = dir / "broken.json";
  std::ofstream(broken) << R"([{"id": "T1", "seed_mm": [1, 2]}])";

  auto out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(fu) + " --lesions " +
                               oqtest::quote((dir / "missing.json").string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("missing.json: cannot be read"), std::string::npos) << out.err;
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(fu) + " --lesions " +
                          oqtest::quote(broken.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("broken.json: not a list of lesions"), std::string::npos) << out.err;
  // A PET given as the follow-up CT.
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(pet) + " --lesions " +
                          oqtest::quote(seeds.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find(pet + ": no CT series"), std::string::npos) << out.err;
  EXPECT_TRUE(out.out.empty());
  // A folder with nothing in it.
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(dir.string()) + " --lesions " +
                          oqtest::quote(seeds.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find(dir.string()), std::string::npos) << out.err;
  EXPECT_EQ(oqtest::oncoquant("track " + oqtest::quote(base)).exit_code, 2);
  // --pet names one follow-up's PET: refused with several follow-ups; store options need --db.
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(fu) + " " + oqtest::quote(fu) + " --lesions " +
                          oqtest::quote(seeds.string()) + " --pet " + oqtest::quote(pet));
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.err.find("single FOLLOWUP"), std::string::npos) << out.err;
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(fu) + " --lesions " +
                          oqtest::quote(seeds.string()) + " --patient X");
  EXPECT_EQ(out.exit_code, 2);
  // Another patient's scan as a follow-up is refused naming both; the follow-ups of the right
  // patient are still tracked.
  const json& other = manifest["patients"][1];
  const std::string other_ct = (kArchive / other["time_points"][1]["ct"]["path"].get<std::string>()).string();
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(other_ct) + " " + oqtest::quote(fu) +
                          " --lesions " + oqtest::quote(seeds.string()) + " --json");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find(other_ct + ": patient " + other["patient_id"].get<std::string>() + ", but the baseline is patient " +
                         manifest["patients"][0]["patient_id"].get<std::string>()),
            std::string::npos)
      << out.err;
  const json partial = json::parse(out.out);
  ASSERT_EQ(partial["followups"].size(), 2u);
  EXPECT_TRUE(partial["followups"][0].contains("error"));
  EXPECT_EQ(partial["followups"][1]["lesions"].size(), manifest["patients"][0]["baseline_lesion_seeds"].size());
  // A file that is not a study store: refused naming it, before the scans are read.
  const fs::path junk = dir / "junk.sqlite";
  std::ofstream(junk) << "a text file, not an SQLite database, long enough to have a header";
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(fu) + " --lesions " +
                          oqtest::quote(seeds.string()) + " --db " + oqtest::quote(junk.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find(junk.string() + ": study store: file is not a database"), std::string::npos) << out.err;
  EXPECT_EQ(out.err.find("scanning"), std::string::npos) << out.err;
  // A store that does not hold the patient's line yet: said before any work, and the store stays empty.
  const fs::path db = dir / "empty.sqlite";
  out = oqtest::oncoquant("track " + oqtest::quote(base) + " " + oqtest::quote(fu) + " --lesions " +
                          oqtest::quote(seeds.string()) + " --db " + oqtest::quote(db.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("no such patient in the store"), std::string::npos) << out.err;
  EXPECT_EQ(oqtest::oncoquant("store audit --db " + oqtest::quote(db.string()) + " --json").out.find("add-"), std::string::npos);
}

}  // namespace
