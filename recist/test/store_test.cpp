// The SQLite study store: schema and migrations, cases in and out, edits kept beside automatic
// values, the append-only audit log, and a writer killed in the middle of a transaction.
#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "helpers.h"
#include "oq/recist/case_json.h"
#include "oq/recist/reader_import.h"
#include "oq/recist/reader_measurement.h"
#include "oq/recist/report.h"
#include "oq/recist/store.h"

namespace oq::recist {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)
namespace fs = std::filesystem;

const Actor kReader{"dr.reader"};

fs::path fresh_store(const std::string& name) {
  const fs::path dir = oqtest::scratch_root();
  fs::path p = dir / (name + ".sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
  return p;
}

std::unique_ptr<StudyStore> open(const fs::path& p) {
  auto s = open_sqlite_store(p.string());
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return s.ok() ? std::move(s.value()) : nullptr;
}

// Runs SQL straight on the file, as a user with the sqlite3 shell could; returns the error text or "".
std::string raw_sql(const fs::path& p, const std::string& sql, std::string* first_value = nullptr) {
  sqlite3* db = nullptr;
  sqlite3_open(p.c_str(), &db);
  std::string err;
  char* msg = nullptr;
  auto cb = [](void* out, int, char** values, char**) {
    if (out && values[0]) *static_cast<std::string*>(out) = values[0];
    return 0;
  };
  if (sqlite3_exec(db, sql.c_str(), cb, first_value, &msg) != SQLITE_OK) err = msg ? msg : "error";
  sqlite3_free(msg);
  sqlite3_close(db);
  return err;
}

Case spec_example() {
  std::ifstream in(std::string(OQ_SHARED_DIR) + "/specs/examples/recist-case-pr.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_case(ss.str(), "example").value();
}

TEST(StudyStore, CreatesTheSchemaOnceAndRefusesWhatIsNotAStore) {
  const fs::path p = fresh_store("schema");
  {
    auto s = open(p);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->schema_version(), 2);
  }
  auto again = open(p);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->schema_version(), 2);
  std::string version;
  raw_sql(p, "SELECT version FROM schema_version", &version);
  EXPECT_EQ(version, "2");

  const fs::path junk = fresh_store("junk");
  std::ofstream(junk) << "this is not a database, it is a text file long enough to have a header";
  EXPECT_FALSE(open_sqlite_store(junk.string()).ok());

  const fs::path future = fresh_store("future");
  open(future).reset();
  raw_sql(future, "UPDATE schema_version SET version = 99");
  const auto f = open_sqlite_store(future.string());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().describe().find("newer"), std::string::npos);
}

TEST(StudyStore, ACaseComesBackAsItWentIn) {
  const fs::path p = fresh_store("roundtrip");
  auto s = open(p);
  ASSERT_TRUE(s);
  const Case c = spec_example();
  ASSERT_TRUE(s->import_case("PSN-0001", 1, "letrozole + palbociclib", c, kReader).ok());
  const Result<Case> back = s->build_case("PSN-0001", 1);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(to_json(assess(back.value()).value()), to_json(assess(c).value()));
  // Importing the same line twice is refused, and changes nothing.
  EXPECT_FALSE(s->import_case("PSN-0001", 1, "", c, kReader).ok());
  EXPECT_EQ(to_json(assess(s->build_case("PSN-0001", 1).value()).value()), to_json(assess(c).value()));
  EXPECT_FALSE(s->build_case("PSN-0001", 2).ok());
  EXPECT_FALSE(s->build_case("NOBODY", 1).ok());
}

TEST(StudyStore, EachLineHasItsOwnBaselineAndFollowUps) {
  const fs::path p = fresh_store("lines");
  auto s = open(p);
  ASSERT_TRUE(s);
  // Line 1: baseline 2025-01-06, start 2025-01-10, follow-ups 03-03 (PR) and 04-28 (PD).
  Case one = single_target_case(50, {30, 45});
  one.treatment_start = day("2025-01-10");
  ASSERT_TRUE(s->import_case("PSN-0002", 1, "first", one, kReader).ok());
  // Line 2 starts 2025-05-05: its baseline is the PD scan of 04-28, re-measured with new targets.
  Case two;
  two.treatment_start = day("2025-05-05");
  two.baseline_date = one.followups[1].date;
  two.lesions = {target("T1", "liver", 45), target("T2", "lung", 20)};
  FollowUp f;
  f.date = day("2025-06-30");
  f.targets = {{"T1", la(30)}, {"T2", la(10)}};
  two.followups = {f};
  ASSERT_TRUE(s->import_case("PSN-0002", 2, "second", two, kReader).ok());

  const Case b1 = s->build_case("PSN-0002", 1).value();
  EXPECT_EQ(b1.baseline_date, day("2025-01-06"));
  ASSERT_EQ(b1.followups.size(), 2u);  // up to the next line's start, not beyond
  const Case b2 = s->build_case("PSN-0002", 2).value();
  EXPECT_EQ(b2.baseline_date, one.followups[1].date);
  ASSERT_EQ(b2.lesions.size(), 2u);
  EXPECT_DOUBLE_EQ(*b2.lesions[0].long_axis_mm, 45);
  ASSERT_EQ(b2.followups.size(), 1u);
  EXPECT_EQ(std::string(to_string(assess(b1).value().timepoints[1].overall_response)), "PD");
  EXPECT_EQ(std::string(to_string(assess(b2).value().timepoints[0].overall_response)), "PR");
  EXPECT_EQ(s->treatment_lines("PSN-0002").value(), (std::vector<int>{1, 2}));
}

TEST(StudyStore, AnEditIsKeptBesideTheAutomaticValueAndAudited) {
  const fs::path p = fresh_store("edits");
  auto s = open(p);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->import_case("PSN-0003", 1, "", single_target_case(40, {30}), kReader).ok());
  const int fu = day("2025-03-03");
  LesionMeasurement automatic;
  automatic.long_axis_mm = 31.2;
  automatic.method = MeasurementMethod::kAutomatic;
  automatic.series_uid = "1.2.3";
  ASSERT_TRUE(s->record_measurement("PSN-0003", "T1", fu, automatic, Actor{"oncoquant segment"}).ok());
  LesionMeasurement edited = automatic;
  edited.long_axis_mm = 26.0;
  edited.method = MeasurementMethod::kEdited;
  ASSERT_TRUE(s->record_measurement("PSN-0003", "T1", fu, edited, kReader).ok());

  const auto history = s->measurement_history("PSN-0003", "T1").value();
  ASSERT_EQ(history.size(), 4u);  // baseline, the imported value, automatic, edited
  EXPECT_EQ(history[2].value.method, MeasurementMethod::kAutomatic);
  EXPECT_DOUBLE_EQ(*history[2].value.long_axis_mm, 31.2);
  EXPECT_EQ(history[3].value.method, MeasurementMethod::kEdited);
  EXPECT_EQ(history[3].value.author, "dr.reader");
  EXPECT_EQ(*history[3].supersedes, history[2].id);
  // The edit is in force: 40 -> 26 is -35 %, PR (the automatic 31.2 would be SD).
  const Case c = s->build_case("PSN-0003", 1).value();
  EXPECT_DOUBLE_EQ(*c.followups[0].targets.at("T1").long_axis_mm, 26.0);
  EXPECT_EQ(std::string(to_string(assess(c).value().timepoints[0].overall_response)), "PR");

  const auto log = s->audit_log().value();
  bool saw_edit = false;
  for (const AuditEntry& e : log)
    if (e.action == "measure-edited" && e.actor == "dr.reader" && e.details.find("supersedes") != std::string::npos)
      saw_edit = true;
  EXPECT_TRUE(saw_edit);
  ASSERT_TRUE(s->set_review_state("PSN-0003", fu, "corrected", kReader).ok());
  EXPECT_EQ(s->audit_log().value().back().action, "review");
  EXPECT_FALSE(s->set_review_state("PSN-0003", fu, "approved-ish", kReader).ok());  // not a review state
  s.reset();

  // Neither measurements nor the audit log can be changed behind the store's back.
  EXPECT_NE(raw_sql(p, "UPDATE measurements SET long_axis_mm = 1"), "");
  EXPECT_NE(raw_sql(p, "DELETE FROM measurements"), "");
  EXPECT_NE(raw_sql(p, "UPDATE audit_log SET actor = 'someone else'"), "");
  EXPECT_NE(raw_sql(p, "DELETE FROM audit_log"), "");
  std::string count;
  raw_sql(p, "SELECT COUNT(*) FROM audit_log", &count);
  EXPECT_EQ(std::stoul(count), log.size() + 1);
}

// A writer killed (SIGKILL, no chance to clean up) in the middle of importing a case leaves
// the store consistent: the import is entirely absent, and the store takes the next write.
// Tracking's proposals: statuses by role, candidates as equivocal new lesions that only count once
// a reader confirms them, a reader's value never replaced by a later run, and all-or-nothing.
TEST(StudyStore, TrackingProposalsAwaitTheReader) {
  const fs::path p = fresh_store("proposals");
  auto s = open(p);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->import_case("PSN-0005", 1, "", single_target_case(40, {}, true), kReader).ok());
  const Actor tracker{"oncoquant track"};
  FollowUpProposals fp;
  fp.date = day("2025-03-03");
  fp.study_uid = "1.2.3.4";
  fp.series_uid = "1.2.3.4.5";
  LesionProposal t1;
  t1.label = "T1";
  t1.found = true;
  t1.long_axis_mm = 26;
  t1.mask = LesionMask{{10, 20, 3}, {2, 2, 1}, {1, 1, 0, 1}};
  LesionProposal nt1;
  nt1.label = "NT1";
  nt1.found = true;
  fp.lesions = {t1, nt1};
  CandidateNewLesion uptake;
  uptake.location = Vec3{10, 20, 30};
  fp.candidates = {uptake};

  auto recorded = s->record_proposals("PSN-0005", 1, fp, tracker);
  ASSERT_TRUE(recorded.ok()) << recorded.error().describe();
  EXPECT_EQ(recorded->recorded, (std::vector<std::string>{"T1", "NT1"}));
  EXPECT_EQ(recorded->candidate_labels, (std::vector<std::string>{"NEW-2025-03-03-1"}));
  Case c = s->build_case("PSN-0005", 1).value();
  ASSERT_EQ(c.followups.size(), 1u);
  EXPECT_EQ(c.followups[0].non_targets.at("NT1"), LesionStatus::kPresent);
  ASSERT_EQ(c.followups[0].new_lesions.size(), 1u);
  EXPECT_FALSE(c.followups[0].new_lesions[0].unequivocal);
  // 40 -> 26 mm is a partial response; the unconfirmed candidate does not make it progression.
  EXPECT_EQ(std::string(to_string(assess(c).value().timepoints[0].overall_response)), "PR");
  const auto history = s->measurement_history("PSN-0005", "T1").value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history.back().value.method, MeasurementMethod::kAutomatic);
  EXPECT_EQ(history.back().value.series_uid, "1.2.3.4.5");
  const auto mask = s->mask_of(history.back().id).value();
  ASSERT_TRUE(mask) << "tracking's segmentation is kept with its value";
  EXPECT_EQ(mask->voxels_inside(), 3u);
  EXPECT_EQ(mask->offset, (std::array<std::size_t, 3>{10, 20, 3}));
  // Three automatic values await review at that date (T1, NT1 and the candidate).
  auto pending = s->pending_reviews("PSN-0005", 1);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().date, fp.date);
  EXPECT_EQ(pending->front().automatic_values, 3);

  // The reader corrects T1 and confirms the candidate; tracking run again leaves both alone and
  // gives the candidate the same label.
  LesionMeasurement corrected;
  corrected.long_axis_mm = 28;
  corrected.method = MeasurementMethod::kEdited;
  ASSERT_TRUE(s->record_measurement("PSN-0005", "T1", fp.date, corrected, kReader).ok());
  LesionMeasurement confirmed;
  confirmed.status = MeasurementStatus::kPresent;
  confirmed.method = MeasurementMethod::kEdited;
  ASSERT_TRUE(s->record_measurement("PSN-0005", "NEW-2025-03-03-1", fp.date, confirmed, kReader).ok());
  recorded = s->record_proposals("PSN-0005", 1, fp, tracker);
  ASSERT_TRUE(recorded.ok()) << recorded.error().describe();
  EXPECT_EQ(recorded->recorded, std::vector<std::string>{"NT1"});
  EXPECT_EQ(recorded->kept_readers_values, (std::vector<std::string>{"T1", "NEW-2025-03-03-1"}));
  c = s->build_case("PSN-0005", 1).value();
  EXPECT_EQ(c.followups[0].targets.at("T1").long_axis_mm, 28.0);
  ASSERT_EQ(c.followups[0].new_lesions.size(), 1u);
  EXPECT_TRUE(c.followups[0].new_lesions[0].unequivocal);
  EXPECT_EQ(std::string(to_string(assess(c).value().timepoints[0].overall_response)), "PD");
  // NT1 is still the tracker's; once the reader confirms the time point nothing awaits review.
  EXPECT_EQ(s->pending_reviews("PSN-0005", 1).value().front().automatic_values, 1);
  ASSERT_TRUE(s->set_review_state("PSN-0005", fp.date, "confirmed", kReader).ok());
  EXPECT_TRUE(s->pending_reviews("PSN-0005", 1).value().empty());

  // A lesion the store does not know refuses the whole follow-up: nothing of it is written.
  FollowUpProposals later = fp;
  later.date = day("2025-04-28");
  LesionProposal unknown;
  unknown.label = "T9";
  later.lesions.push_back(unknown);
  const auto refused = s->record_proposals("PSN-0005", 1, later, tracker);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().describe().find("T9"), std::string::npos) << refused.error().describe();
  EXPECT_EQ(s->build_case("PSN-0005", 1).value().followups.size(), 1u);
  // Nor is a follow-up dated before the line's start.
  later.lesions = {t1};
  later.date = day("2024-12-01");
  EXPECT_FALSE(s->record_proposals("PSN-0005", 1, later, tracker).ok());
}

TEST(StudyStore, AWriterKilledMidTransactionLeavesNoTrace) {
  const fs::path p = fresh_store("killed");
  open(p).reset();
  std::vector<double> sums;
  sums.reserve(60);
  for (int i = 0; i < 60; ++i) sums.push_back(40 - i * 0.1);
  const Case big = single_target_case(40, sums, true);

  int pipe_fd[2];
  ASSERT_EQ(::pipe(pipe_fd), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fd[0]);
    auto store = open_sqlite_store(p.string());
    if (!store.ok()) ::_exit(3);
    store.value()->import_case("PSN-KILL", 1, "", big, Actor{"writer"}, [&](size_t rows) {
      if (rows == 40) {  // well inside the transaction: tell the parent, then wait to be killed
        const char ready = 'r';
        if (::write(pipe_fd[1], &ready, 1) != 1) ::_exit(4);
        std::this_thread::sleep_for(std::chrono::seconds(30));
      }
    });
    ::_exit(0);
  }
  ::close(pipe_fd[1]);
  char ready = 0;
  ASSERT_EQ(::read(pipe_fd[0], &ready, 1), 1);
  ::close(pipe_fd[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  std::string check;
  EXPECT_EQ(raw_sql(p, "PRAGMA integrity_check", &check), "");
  EXPECT_EQ(check, "ok");
  auto s = open(p);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->build_case("PSN-KILL", 1).ok());  // no patient, no line
  std::string rows;
  raw_sql(p, "SELECT (SELECT COUNT(*) FROM lesions) + (SELECT COUNT(*) FROM measurements) + (SELECT COUNT(*) FROM audit_log)",
          &rows);
  EXPECT_EQ(rows, "0");
  ASSERT_TRUE(s->import_case("PSN-KILL", 1, "", big, Actor{"writer"}).ok());
  EXPECT_EQ(s->build_case("PSN-KILL", 1).value().followups.size(), 60u);
}

// recist/test/data/store-schema1.sqlite was written by the oncoquant of schema version 1 (before
// issue 21): `store import-case` of the demo's OQ-DEMO-001 baseline, `track --db` to two follow-ups
// (automatic values with long-axis end points as JSON text, one candidate new lesion with its
// hottest point) and one `store measure` edit. Opening it read-write upgrades it in place.
TEST(StudyStore, AStoreWrittenBeforeTypedMeasurementsIsUpgradedInPlaceKeepingEveryValue) {
  const fs::path p = fresh_store("schema1");
  fs::copy_file(fs::path(OQ_SOURCE_DIR) / "recist/test/data/store-schema1.sqlite", p);
  auto old = open_sqlite_store(p.string(), StoreAccess::kReadOnly);
  ASSERT_FALSE(old.ok()) << "reading alone never migrates";
  auto s = open(p);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->schema_version(), 2);

  const auto l1 = s->measurement_history("OQ-DEMO-001", "L1").value();
  ASSERT_EQ(l1.size(), 4u);  // the reader's baseline, two automatic follow-ups, one edit
  EXPECT_EQ(l1[0].value.method, MeasurementMethod::kManual);
  EXPECT_FALSE(l1[0].value.long_axis);
  const LesionMeasurement& automatic = l1[1].value;
  EXPECT_EQ(automatic.method, MeasurementMethod::kAutomatic);
  EXPECT_EQ(automatic.status, MeasurementStatus::kMeasured);
  EXPECT_EQ(automatic.author, "fixture-tracker");
  ASSERT_TRUE(automatic.long_axis);  // [[-9.91,7.27,8.88],[-20.7,27.43,8.88]] in the old column
  EXPECT_EQ(automatic.long_axis->a, (Vec3{-9.91, 7.27, 8.88}));
  EXPECT_EQ(automatic.long_axis->b, (Vec3{-20.7, 27.43, 8.88}));
  EXPECT_NEAR(automatic.long_axis->length_mm(), *automatic.long_axis_mm, 0.02);
  EXPECT_FALSE(automatic.short_axis);
  const auto edited =
      std::find_if(l1.begin(), l1.end(), [](const StoredMeasurement& m) { return m.value.method == MeasurementMethod::kEdited; });
  ASSERT_NE(edited, l1.end());
  EXPECT_EQ(*edited->value.long_axis_mm, 20.5);
  EXPECT_EQ(edited->value.author, "fixture-reader");
  EXPECT_TRUE(edited->supersedes);

  const auto candidate = s->measurement_history("OQ-DEMO-001", "NEW-2026-07-20-1").value();
  ASSERT_EQ(candidate.size(), 1u);
  ASSERT_TRUE(candidate[0].value.location);
  EXPECT_EQ(*candidate[0].value.location, (Vec3{-106.0, 4.0, -44.25}));
  EXPECT_FALSE(candidate[0].value.unequivocal);

  // The upgraded store still answers as before and takes new typed values.
  const Case c = s->build_case("OQ-DEMO-001", 1).value();
  EXPECT_EQ(c.followups.size(), 2u);
  LesionMeasurement m;
  m.long_axis_mm = 20.0;
  m.long_axis = Caliper{{0, 0, 5}, {20, 0, 5}, "1.2.840.1", 3};
  m.method = MeasurementMethod::kEdited;
  ASSERT_TRUE(s->record_measurement("OQ-DEMO-001", "L1", day("2026-07-20"), m, kReader).ok());
  const auto after = s->measurement_history("OQ-DEMO-001", "L1").value();
  ASSERT_TRUE(after.back().value.long_axis);
  EXPECT_EQ(after.back().value.long_axis->sop_instance_uid, "1.2.840.1");
  EXPECT_EQ(after.back().value.long_axis->frame, 3);
  const auto log = s->audit_log().value();
  EXPECT_GT(log.size(), 10u) << "the audit log came through the upgrade";
}

ReaderMeasurement click(const std::string& label, const std::string& date, double long_axis_mm) {
  ReaderMeasurement m;
  m.pseudonym = "PSN-0100";
  m.date = day(date);
  m.study_uid = "2.25.100." + std::to_string(m.date);
  m.series_uid = m.study_uid + ".2";
  m.modality = "CT";
  m.slice_thickness_mm = 2.5;
  m.lesion.label = label;
  m.lesion.organ = "liver";
  m.value.long_axis_mm = long_axis_mm;
  m.value.short_axis_mm = long_axis_mm / 2;
  m.value.long_axis = Caliper{{0, 0, 10}, {long_axis_mm, 0, 10}, m.series_uid + ".7", 0};
  m.value.short_axis =
      Caliper{{long_axis_mm / 2, -long_axis_mm / 4, 10}, {long_axis_mm / 2, long_axis_mm / 4, 10}, m.series_uid + ".7", 0};
  m.value.volume_ml = 5.2;
  m.value.mean_hu = 48.5;
  m.value.series_uid = m.series_uid;
  m.mask.offset = {100, 120, 6};
  m.mask.size = {4, 3, 2};
  m.mask.inside = {0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
  return m;
}

TEST(StudyStore, AReadersClickKeepsTheValueItsCalipersAndItsMaskAtTheSeriesTimePoint) {
  const fs::path p = fresh_store("click");
  auto s = open(p);
  ASSERT_TRUE(s);
  const ReaderMeasurement first = click("T1", "2026-01-12", 30);
  auto r = record_reader_measurement(*s, first, kReader);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r->lesion_created);
  EXPECT_TRUE(r->line_created) << "a first read before any line is that line's baseline";
  EXPECT_EQ(r->line_number, 1);

  const auto history = s->measurement_history("PSN-0100", "T1").value();
  ASSERT_EQ(history.size(), 1u);
  const LesionMeasurement& v = history[0].value;
  EXPECT_EQ(history[0].date, "2026-01-12");
  EXPECT_EQ(v.method, MeasurementMethod::kAutomatic);
  EXPECT_FALSE(v.tracking_uid.empty());
  ASSERT_TRUE(v.long_axis && v.short_axis);
  EXPECT_EQ(v.long_axis->sop_instance_uid, first.series_uid + ".7");
  EXPECT_EQ(v.short_axis->b, first.value.short_axis->b);
  EXPECT_EQ(*v.mean_hu, 48.5);
  auto mask = s->mask_of(history[0].id);
  ASSERT_TRUE(mask.ok() && *mask) << "the mask is kept beside the measurement";
  EXPECT_EQ((*mask)->offset, first.mask.offset);
  EXPECT_EQ((*mask)->size, first.mask.size);
  EXPECT_EQ((*mask)->inside, first.mask.inside);

  // The next time point: same lesion, same line; the case has T1 as a target going 30 -> 21 mm.
  r = record_reader_measurement(*s, click("T1", "2026-03-16", 21), kReader);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->lesion_created);
  EXPECT_FALSE(r->line_created);
  EXPECT_EQ(s->measurement_history("PSN-0100", "T1").value().back().value.tracking_uid, v.tracking_uid);
  const Case c = s->build_case("PSN-0100", 1).value();
  ASSERT_EQ(c.lesions.size(), 1u);
  EXPECT_TRUE(c.lesions[0].target);
  EXPECT_EQ(*c.lesions[0].long_axis_mm, 30);
  ASSERT_EQ(c.followups.size(), 1u);
  EXPECT_EQ(*c.followups[0].targets.at("T1").long_axis_mm, 21);
  EXPECT_EQ(std::string(to_string(assess(c).value().timepoints[0].overall_response)), "PR");
}

TEST(StudyStore, AClickWhoseMaskDoesNotFillItsBoxLeavesNothingBehind) {
  const fs::path p = fresh_store("click_bad_mask");
  auto s = open(p);
  ASSERT_TRUE(s);
  ReaderMeasurement bad = click("T1", "2026-01-12", 30);
  bad.mask.inside.pop_back();
  auto r = record_reader_measurement(*s, bad, kReader);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("do not fill its box"), std::string::npos) << r.error().describe();
  EXPECT_FALSE(s->treatment_lines("PSN-0100").ok()) << "not even the patient was kept";
  EXPECT_TRUE(s->audit_log().value().empty());
}

TEST(StudyStore, AClickForALineThePatientDoesNotHaveIsRefused) {
  const fs::path p = fresh_store("click_line");
  auto s = open(p);
  ASSERT_TRUE(s);
  ReaderMeasurement m = click("T1", "2026-01-12", 30);
  m.line_number = 3;
  auto r = record_reader_measurement(*s, m, kReader);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no treatment line 3"), std::string::npos) << r.error().describe();
}

// The report (oq/recist/report.h): per time point the value in force of each lesion of the line,
// with its calipers, mask and tracking UID, and the responses from the follow-ups on.
TEST(PatientReport, EachTimePointCarriesTheValueInForceWithItsMaskAndTheFollowUpsTheirResponses) {
  const fs::path p = fresh_store("report");
  auto s = open(p);
  ASSERT_TRUE(s);
  ASSERT_TRUE(record_reader_measurement(*s, click("T1", "2026-01-12", 30), kReader).ok());
  ASSERT_TRUE(record_reader_measurement(*s, click("T1", "2026-03-16", 21), kReader).ok());
  LesionMeasurement edit;
  edit.long_axis_mm = 18;
  edit.method = MeasurementMethod::kEdited;
  ASSERT_TRUE(s->record_measurement("PSN-0100", "T1", day("2026-03-16"), edit, Actor{"dr.second"}).ok());

  const auto r = gather_report(*s, "PSN-0100");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_EQ(r->lines[0].best_response, "PR");
  ASSERT_EQ(r->time_points.size(), 2u);
  const TimePointReport& base = r->time_points[0];
  const TimePointReport& fu = r->time_points[1];
  EXPECT_TRUE(base.baseline);
  EXPECT_EQ(base.time_point_id, "baseline");
  EXPECT_FALSE(base.responses) << "a baseline has no response";
  EXPECT_EQ(base.study_uid, click("T1", "2026-01-12", 30).study_uid);
  ASSERT_EQ(base.lesions.size(), 1u);
  EXPECT_EQ(*base.lesions[0].value.long_axis_mm, 30);
  ASSERT_TRUE(base.lesions[0].mask);
  EXPECT_EQ(base.lesions[0].mask->voxels_inside(), 10u);
  EXPECT_EQ(*base.lesions[0].role, LesionRole::kTarget);

  EXPECT_EQ(fu.time_point_id, "follow-up 1");
  ASSERT_EQ(fu.lesions.size(), 1u);
  EXPECT_EQ(*fu.lesions[0].value.long_axis_mm, 18) << "the reader's edit is the value in force";
  EXPECT_EQ(fu.lesions[0].value.method, MeasurementMethod::kEdited);
  EXPECT_FALSE(fu.lesions[0].mask) << "the edit has no mask of its own";
  EXPECT_EQ(fu.lesions[0].tracking_uid, base.lesions[0].tracking_uid);
  ASSERT_TRUE(fu.responses);
  EXPECT_EQ(fu.responses->overall, "PR");  // 18 vs 30: -40 %
  EXPECT_NEAR(*fu.responses->change_from_baseline_pct, -40, 1e-9);
}

TEST(PatientReport, AnUnknownPatientOrLineIsNotFound) {
  const fs::path p = fresh_store("report_unknown");
  auto s = open(p);
  ASSERT_TRUE(s);
  ASSERT_TRUE(record_reader_measurement(*s, click("T1", "2026-01-12", 30), kReader).ok());
  EXPECT_EQ(gather_report(*s, "NOBODY").error().code(), ErrorCode::kNotFound);
  const auto line = gather_report(*s, "PSN-0100", 2);
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.error().message().find("no treatment line 2"), std::string::npos) << line.error().describe();
}

// Readers' measurements from an SR (oq/recist/reader_import.h): matched by Tracking UID, else by
// where they lie; a changed value is an edit by the reader, an unchanged one is left alone, and
// what matches nothing is listed.
TEST(ReaderImport, MatchesByTrackingUidElseByLocationAndListsWhatMatchesNothing) {
  const fs::path p = fresh_store("import");
  auto s = open(p);
  ASSERT_TRUE(s);
  ASSERT_TRUE(record_reader_measurement(*s, click("T1", "2026-01-12", 30), kReader).ok());
  ASSERT_TRUE(record_reader_measurement(*s, click("T2", "2026-01-12", 12), kReader).ok());
  const auto t1 = s->measurement_history("PSN-0100", "T1").value().front().value;

  ImportedMeasurement same_uid;  // T1 by its UID, unchanged
  same_uid.tracking_uid = t1.tracking_uid;
  same_uid.long_axis_mm = 30;
  same_uid.short_axis_mm = 15;
  ImportedMeasurement moved;  // a new UID (as OHIF writes), lying on T1's caliper: an edit of T1
  moved.tracking_uid = "2.25.999";
  moved.label = "T1";
  moved.long_axis_mm = 33;
  moved.long_axis = Caliper{{1, 0, 10}, {34, 0, 10}, "x", 0};
  ImportedMeasurement elsewhere;  // lies on nothing
  elsewhere.tracking_uid = "2.25.998";
  elsewhere.label = "somewhere";
  elsewhere.long_axis_mm = 10;
  elsewhere.long_axis = Caliper{{200, 200, 10}, {210, 200, 10}, "x", 0};

  const auto r = import_reader_measurements(*s, "PSN-0100", day("2026-01-12"), {same_uid, moved, elsewhere}, Actor{"dr.ohif"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->unchanged.size(), 1u);
  EXPECT_EQ(r->unchanged[0].lesion, "T1");
  EXPECT_EQ(r->unchanged[0].how, "tracking UID");
  ASSERT_EQ(r->edited.size(), 1u);
  EXPECT_EQ(r->edited[0].lesion, "T1");
  EXPECT_EQ(r->edited[0].how, "location");
  ASSERT_EQ(r->unmatched.size(), 1u);
  EXPECT_NE(r->unmatched[0].find("somewhere"), std::string::npos) << r->unmatched[0];
  const auto history = s->measurement_history("PSN-0100", "T1").value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(*history.back().value.long_axis_mm, 33);
  EXPECT_EQ(history.back().value.method, MeasurementMethod::kEdited);
  EXPECT_EQ(history.back().value.author, "dr.ohif");
  EXPECT_EQ(s->measurement_history("PSN-0100", "T2").value().size(), 1u) << "T2 untouched";
}

// A lesion kept into the next line (re-baselined at progression, as a batch does) has automatic values
// at every scan; each line's pending reviews are its own time points only: from its baseline to the
// next line's start.
TEST(StudyStore, PendingReviewsAreTheLinesOwnTimePoints) {
  const auto path = fresh_store("pending-span");
  auto s = open(path);
  ASSERT_TRUE(s->add_treatment_line("PSN-0200", 1, day("2025-01-10"), "", Criteria::kRecist11, kReader));
  ASSERT_TRUE(s->add_treatment_line("PSN-0200", 2, day("2025-05-01"), "", Criteria::kRecist11, kReader));
  LesionRecord t1;
  t1.label = "T1";
  t1.organ = "liver";
  ASSERT_TRUE(s->add_lesion("PSN-0200", t1, kReader));
  ASSERT_TRUE(s->set_role("PSN-0200", 1, "T1", LesionRole::kTarget, kReader));
  ASSERT_TRUE(s->set_role("PSN-0200", 2, "T1", LesionRole::kTarget, kReader));
  for (const char* date : {"2025-01-05", "2025-03-03", "2025-04-28", "2025-06-30"}) {
    LesionMeasurement m;
    m.long_axis_mm = 30;
    m.method = MeasurementMethod::kAutomatic;
    ASSERT_TRUE(s->record_measurement("PSN-0200", "T1", day(date), m, Actor{"tracker"}));
  }
  const auto dates = [&](int line) {
    std::vector<std::string> out;
    const auto pending = s->pending_reviews("PSN-0200", line);
    for (const PendingReview& p : pending.value()) out.push_back(format_date(p.date));
    return out;
  };
  EXPECT_EQ(dates(1), (std::vector<std::string>{"2025-01-05", "2025-03-03", "2025-04-28"}));
  EXPECT_EQ(dates(2), (std::vector<std::string>{"2025-04-28", "2025-06-30"}));
}

}  // namespace
}  // namespace oq::recist
