// RECIST 1.1 as ../shared/specs/recist.md states it: the boundary checks of section 8, the
// worked examples of section 4, every row of Tables 1, 2 and 3, and the follow-up rules of
// section 2. Expected values come from the spec's text, not from the engine.
#include <gtest/gtest.h>

#include "helpers.h"

namespace oq::recist {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the builders read as prose

// ---- section 8: boundary checks ----

TEST(Recist11Boundaries, TwentyPercentAndFiveMillimetresBothInclusive) {
  // nadir 30 -> 36 mm: +20 %, +6 mm -> PD
  EXPECT_EQ(response(assessed(single_target_case(30, {36})), 0), "PD");
  // nadir 20 -> 24 mm: +20 % but only +4 mm -> SD
  EXPECT_EQ(response(assessed(single_target_case(20, {24})), 0), "SD");
  // the nadir is the smallest sum so far, not the baseline: 50 -> 30 -> 36
  const Assessment a = assessed(single_target_case(50, {30, 36}));
  EXPECT_EQ(response(a, 0), "PR");
  EXPECT_EQ(response(a, 1), "PD");
  EXPECT_DOUBLE_EQ(a.timepoints[1].nadir_mm, 30);
}

TEST(Recist11Boundaries, ThirtyPercentDecreaseInclusive) {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions = {target("T1", "liver", 60), target("T2", "lung", 40)};
  FollowUp f;
  f.date = day("2025-03-03");
  f.targets = {{"T1", la(42)}, {"T2", la(28)}};  // 100 -> 70: exactly -30 %
  c.followups.push_back(f);
  EXPECT_EQ(response(assessed(c), 0), "PR");
  c.followups[0].targets["T2"] = la(29);  // 100 -> 71
  EXPECT_EQ(response(assessed(c), 0), "SD");
  // Sums whose binary fractions are inexact still meet an exact boundary: 10.1 + 10.2 + 9.7 = 30 of 42.857...
  Case d;
  d.baseline_date = day("2025-01-06");
  d.lesions = {target("T1", "liver", 14.3), target("T2", "lung", 14.3), target("T3", "spleen", 14.4)};  // 43
  FollowUp g;
  g.date = day("2025-03-03");
  g.targets = {{"T1", la(10.1)}, {"T2", la(10.2)}, {"T3", la(9.8)}};  // 30.1 = 70 % of 43
  d.followups.push_back(g);
  EXPECT_EQ(response(assessed(d), 0), "PR");
}

TEST(Recist11Boundaries, NodalTargetBelowTenMillimetresIsCompleteResponseWithANonZeroSum) {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions = {target("T1", "liver", 30), nodal_target("N1", 20)};
  FollowUp f;
  f.date = day("2025-03-03");
  f.targets = {{"T1", with_status(TargetStatus::kAbsent)}, {"N1", sa(9)}};
  c.followups.push_back(f);
  const Assessment a = assessed(c);
  EXPECT_EQ(response(a, 0), "CR");
  ASSERT_TRUE(a.timepoints[0].sum_mm.has_value());
  EXPECT_DOUBLE_EQ(*a.timepoints[0].sum_mm, 9);
  // A node back at >= 10 mm is no longer a complete response.
  FollowUp g = f;
  g.date = day("2025-04-28");
  g.targets["N1"] = sa(10);
  c.followups.push_back(g);
  EXPECT_NE(std::string(to_string(assessed(c).timepoints[1].target_response)), "CR");
}

std::vector<RuleViolation> violations(const Case& c) {
  return check_case(c);
}

bool names(const std::vector<RuleViolation>& v, const std::string& id, const std::string& words) {
  for (const RuleViolation& x : v)
    if (x.lesion_id == id && x.rule.find(words) != std::string::npos) return true;
  return false;
}

TEST(Recist11Baseline, EachRefusedTargetIsNamedWithItsRule) {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions = {target("L1", "liver", 30), target("L2", "liver", 25),  target("L3", "liver", 20),  // third in liver
               target("P1", "lung", 15),  target("K1", "kidney", 18), target("S1", "spleen", 22)};
  const auto v = violations(c);
  EXPECT_TRUE(names(v, "L3", "at most 2 targets per organ"));
  EXPECT_TRUE(names(v, "S1", "at most 5 targets in total"));
  EXPECT_FALSE(names(v, "L1", ""));
  EXPECT_FALSE(names(v, "K1", ""));

  Case n;
  n.baseline_date = day("2025-01-06");
  n.lesions = {nodal_target("N1", 12)};
  EXPECT_TRUE(names(violations(n), "N1", "pathological non-target"));
  n.lesions = {nodal_target("N1", 8)};
  EXPECT_TRUE(names(violations(n), "N1", "normal"));
  n.lesions = {nodal_target("N1", 15)};
  EXPECT_TRUE(violations(n).empty());

  Case s;
  s.baseline_date = day("2025-01-06");
  s.slice_thickness_mm = 5;
  s.lesions = {target("T1", "lung", 8)};
  EXPECT_TRUE(names(violations(s), "T1", ">= 10 mm"));
  s.slice_thickness_mm = 8;
  s.lesions = {target("T1", "lung", 12)};
  EXPECT_TRUE(names(violations(s), "T1", "2 x slice thickness"));
  s.lesions = {target("T1", "lung", 16)};
  EXPECT_TRUE(violations(s).empty());
  s.modality = Modality::kXr;
  s.lesions = {target("T1", "lung", 19)};
  EXPECT_TRUE(names(violations(s), "T1", ">= 20 mm"));
}

TEST(Recist11Baseline, NodesAreOneOrganAndPairedOrgansShareOne) {
  Case c;
  c.baseline_date = day("2025-01-06");
  BaselineLesion n3 = nodal_target("N3", 16);
  n3.organ = "axillary node";  // whatever it says, a node is in the organ "lymph node"
  c.lesions = {nodal_target("N1", 20), nodal_target("N2", 18), n3};
  EXPECT_TRUE(names(violations(c), "N3", "all lymph nodes count as one organ"));
  c.lesions = {target("P1", "left lung", 20), target("P2", "right lung", 20), target("P3", "lungs", 20)};
  EXPECT_TRUE(names(violations(c), "P3", "at most 2 targets per organ"));
}

TEST(Recist11Baseline, BoneAndIrradiatedLesions) {
  Case c;
  c.baseline_date = day("2025-01-06");
  BaselineLesion blastic = target("B1", "bone", 25);
  blastic.bone = BoneLesion::kBlastic;
  BaselineLesion lytic = target("B2", "bone", 25);  // its soft-tissue component
  lytic.bone = BoneLesion::kLytic;
  BaselineLesion irradiated = target("R1", "liver", 30);
  irradiated.previously_irradiated = true;
  c.lesions = {blastic, lytic, irradiated};
  const auto v = violations(c);
  EXPECT_TRUE(names(v, "B1", "never measurable"));
  EXPECT_FALSE(names(v, "B2", ""));
  EXPECT_TRUE(names(v, "R1", "previously irradiated"));
  // A refused baseline is not assessed: every problem is in the message.
  const Result<Assessment> a = assess(c);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("B1: "), std::string::npos);
  EXPECT_NE(a.error().message().find("R1: "), std::string::npos);
}

// ---- section 4: the worked checks from the EORTC clarifications ----

TEST(Recist11WorkedExamples, PartialResponseIsAgainstBaselineProgressionAgainstNadir) {
  // 165 -> 63 -> 65: the second follow-up is PR against baseline, not PD against the nadir of 63.
  const Assessment a = assessed(single_target_case(165, {63, 65}));
  EXPECT_EQ(response(a, 0), "PR");
  EXPECT_EQ(response(a, 1), "PR");
  // 100 -> 70 -> 70 -> 80 -> 80 -> 80: PR at every follow-up.
  const Assessment b = assessed(single_target_case(100, {70, 70, 80, 80, 80}));
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(response(b, i), "PR") << i;
}

// Section 4, clarified: the PR holds until PD only once it is confirmed where confirmation is
// required; before that each time point is judged on its own.
TEST(Recist11WorkedExamples, AnUnconfirmedPartialResponseDoesNotHoldWhereConfirmationIsRequired) {
  Case c = single_target_case(50, {30, 35.5});
  c.confirmation_required = true;
  const Assessment a = assessed(c);
  EXPECT_EQ(response(a, 0), "PR");
  EXPECT_EQ(response(a, 1), "SD");  // -29 % from baseline
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "SD");
  // Without confirmation the same course stays PR.
  c.confirmation_required = false;
  EXPECT_EQ(response(assessed(c), 1), "PR");
}

TEST(Recist11WorkedExamples, AConfirmedPartialResponseHoldsUntilProgression) {
  // 100 -> 70 -> 70 (confirmed 56 days later) -> 80: PR held; with a second PR only 14 days
  // after the first (short of the 28-day interval) it is not yet confirmed and 80 is SD.
  Case c = single_target_case(100, {70, 70, 80});
  c.confirmation_required = true;
  const Assessment a = assessed(c);
  EXPECT_EQ(response(a, 2), "PR");
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "PR");
  Case d = c;
  d.followups[1].date = d.followups[0].date + 14;
  d.followups[2].date = d.followups[1].date + 14;
  EXPECT_EQ(response(assessed(d), 2), "SD");
}

// ---- section 3, Table 1: every row ----

enum class T { CR, PR, SD, PD, NE };
enum class NT { CR, NonCR, NE, PD };
enum class New { No, Yes, Equivocal };

Case table1_case(T t, NT nt, New nw) {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions = {target("T1", "liver", 50), target("T2", "lung", 50), non_target("NT1", "bone")};
  FollowUp f;
  f.date = day("2025-03-03");
  switch (t) {
    case T::CR:
      f.targets = {{"T1", with_status(TargetStatus::kAbsent)}, {"T2", with_status(TargetStatus::kAbsent)}};
      break;
    case T::PR:
      f.targets = {{"T1", la(30)}, {"T2", la(20)}};  // -50 %
      break;
    case T::SD:
      f.targets = {{"T1", la(45)}, {"T2", la(45)}};  // -10 %
      break;
    case T::PD:
      f.targets = {{"T1", la(65)}, {"T2", la(60)}};  // +25 %, +25 mm
      break;
    case T::NE:
      f.targets = {{"T1", la(40)}};  // T2 not evaluated, the measured one does not make PD
      break;
  }
  const LesionStatus s[] = {LesionStatus::kAbsent, LesionStatus::kPresent, LesionStatus::kNotEvaluated,
                            LesionStatus::kUnequivocalProgression};
  f.non_targets["NT1"] = s[static_cast<int>(nt)];
  if (nw != New::No) f.new_lesions.push_back(new_lesion("X1", "liver", nw == New::Yes, 12));
  c.followups.push_back(f);
  return c;
}

// Table 1 of RECIST 1.1, row by row as recist.md lists it.
std::string table1(T t, NT nt, New nw) {
  if (t == T::PD || nt == NT::PD || nw == New::Yes) return "PD";  // last three rows
  if (t == T::CR && nt == NT::CR) return "CR";
  if (t == T::CR) return "PR";  // Non-CR/Non-PD or NE
  if (t == T::PR) return "PR";
  if (t == T::SD) return "SD";
  return "NE";  // NE targets, non-targets not PD
}

TEST(Recist11Table1, EveryCombinationOfTargetsNonTargetsAndNewLesions) {
  for (T t : {T::CR, T::PR, T::SD, T::PD, T::NE})
    for (NT nt : {NT::CR, NT::NonCR, NT::NE, NT::PD})
      for (New nw : {New::No, New::Yes, New::Equivocal}) {
        const Assessment a = assessed(table1_case(t, nt, nw));
        EXPECT_EQ(response(a, 0), table1(t, nt, nw))
            << "targets " << static_cast<int>(t) << " non-targets " << static_cast<int>(nt) << " new " << static_cast<int>(nw);
      }
}

TEST(Recist11Table1, ComponentResponsesAreReported) {
  const Assessment a = assessed(table1_case(T::CR, NT::NonCR, New::Equivocal));
  EXPECT_EQ(std::string(to_string(a.timepoints[0].target_response)), "CR");
  EXPECT_EQ(std::string(to_string(a.timepoints[0].non_target_response)), "Non-CR/Non-PD");
  EXPECT_EQ(std::string(to_string(a.timepoints[0].new_lesions)), "equivocal");
  EXPECT_FALSE(assessed(table1_case(T::NE, NT::NonCR, New::No)).timepoints[0].sum_mm.has_value());
}

// ---- Table 2: non-target disease only ----

TEST(Recist11Table2, NonTargetDiseaseOnly) {
  struct Row {
    LesionStatus status;
    bool new_lesion;
    const char* overall;
  };
  for (const Row& r : {Row{LesionStatus::kAbsent, false, "CR"}, Row{LesionStatus::kPresent, false, "Non-CR/Non-PD"},
                       Row{LesionStatus::kIncreased, false, "Non-CR/Non-PD"}, Row{LesionStatus::kNotEvaluated, false, "NE"},
                       Row{LesionStatus::kUnequivocalProgression, false, "PD"}, Row{LesionStatus::kPresent, true, "PD"}}) {
    Case c;
    c.baseline_date = day("2025-01-06");
    c.lesions = {non_target("NT1", "bone"), non_target("NT2", "pleura")};
    FollowUp f;
    f.date = day("2025-03-03");
    f.non_targets = {{"NT1", r.status},
                     {"NT2", r.status == LesionStatus::kAbsent ? LesionStatus::kAbsent : LesionStatus::kPresent}};
    if (r.new_lesion) f.new_lesions.push_back(new_lesion("X1", "liver"));
    c.followups.push_back(f);
    const Assessment a = assessed(c);
    EXPECT_EQ(response(a, 0), r.overall) << static_cast<int>(r.status);
    EXPECT_EQ(std::string(to_string(a.timepoints[0].target_response)), "NA");
  }
}

// ---- section 2: follow-up measurements ----

Case two_target_case() {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions = {target("T1", "liver", 40), target("T2", "liver", 20)};
  return c;
}

TEST(Recist11FollowUp, TooSmallCountsFiveGoneCountsZero) {
  Case c = two_target_case();
  FollowUp f;
  f.date = day("2025-03-03");
  f.targets = {{"T1", la(30)}, {"T2", with_status(TargetStatus::kTooSmall)}};
  c.followups.push_back(f);
  EXPECT_DOUBLE_EQ(*assessed(c).timepoints[0].sum_mm, 35);
  c.followups[0].targets["T2"] = with_status(TargetStatus::kAbsent);
  EXPECT_DOUBLE_EQ(*assessed(c).timepoints[0].sum_mm, 30);
  c.followups[0].targets["T2"] = la(3);  // measurable below 5 mm: its value
  EXPECT_DOUBLE_EQ(*assessed(c).timepoints[0].sum_mm, 33);
}

TEST(Recist11FollowUp, SplitLesionsAddAndMergedOnesCountZero) {
  Case c = two_target_case();
  FollowUp f;
  f.date = day("2025-03-03");
  TargetMeasurement split;
  split.fragments_mm = {12, 9};
  f.targets = {{"T1", split}, {"T2", la(20)}};
  c.followups.push_back(f);
  EXPECT_DOUBLE_EQ(*assessed(c).timepoints[0].sum_mm, 41);
  TargetMeasurement merged;
  merged.merged_into = "T1";
  c.followups[0].targets = {{"T1", la(55)}, {"T2", merged}};
  EXPECT_DOUBLE_EQ(*assessed(c).timepoints[0].sum_mm, 55);
}

TEST(Recist11FollowUp, MissingTargetIsNotEvaluableUnlessTheOthersAlreadyProgress) {
  Case c = two_target_case();  // baseline 60
  FollowUp f;
  f.date = day("2025-03-03");
  f.targets = {{"T1", la(30)}};  // T2 missing
  c.followups.push_back(f);
  EXPECT_EQ(response(assessed(c), 0), "NE");
  c.followups[0].targets = {{"T1", la(75)}, {"T2", with_status(TargetStatus::kNotEvaluated)}};  // 75 >= 1.2 x 60
  EXPECT_EQ(response(assessed(c), 0), "PD");
}

TEST(Recist11FollowUp, FollowUpsThatDoNotFitTheBaselineAreRefused) {
  Case c = two_target_case();
  FollowUp f;
  f.date = day("2025-01-01");  // before baseline
  f.targets = {{"T9", la(10)}, {"T2", TargetMeasurement{}}};
  c.followups.push_back(f);
  const auto v = check_case(c);
  EXPECT_TRUE(names(v, "T9", "not a baseline target"));
  EXPECT_TRUE(names(v, "T2", "needs its longest diameter"));
  EXPECT_TRUE(names(v, "", "dated after the baseline"));
}

// RECIST 1.1 (recist.md, coalescing lesions): the merged mass is measured on the target it merged
// into; a cycle (T1 into T2, T2 into T1) once left both out of the sum and called progression.
TEST(Recist11FollowUp, MergingIntoATargetThatIsItselfMergedIsRefused) {
  Case c = two_target_case();
  FollowUp f;
  f.date = day("2025-03-03");
  TargetMeasurement into_t2, into_t1;
  into_t2.merged_into = "T2";
  into_t1.merged_into = "T1";
  f.targets = {{"T1", into_t2}, {"T2", into_t1}};
  c.followups.push_back(f);
  const auto v = check_case(c);
  EXPECT_TRUE(names(v, "T1", "itself merged into 'T1'"));
  EXPECT_TRUE(names(v, "T2", "itself merged into 'T2'"));
  c.followups[0].targets = {{"T1", into_t2}, {"T2", la(50)}};
  EXPECT_TRUE(check_case(c).empty()) << "merging into a measured target is the rule";
}

TEST(Recist11NewLesions, EquivocalThenConfirmedDatesProgressionBack) {
  Case c = single_target_case(50, {40, 40, 40}, true);
  c.followups[1].new_lesions = {new_lesion("X1", "liver", false, 6)};
  c.followups[2].new_lesions = {new_lesion("X1", "liver", true, 14)};
  const Assessment a = assessed(c);
  EXPECT_EQ(response(a, 1), "SD");  // equivocal: not PD yet
  EXPECT_EQ(response(a, 2), "PD");
  ASSERT_TRUE(a.progression_date.has_value());
  EXPECT_EQ(format_date(*a.progression_date), format_date(c.followups[1].date));
  EXPECT_EQ(*a.pfs_days, c.followups[1].date - c.baseline_date);
  EXPECT_FALSE(a.pfs_censored);
}

// ---- section 4: best overall response ----

Case course(const std::vector<std::pair<int, double>>& days_and_sums, double baseline = 100) {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions = {target("T1", "liver", baseline)};
  for (const auto& [d, v] : days_and_sums) {
    FollowUp f;
    f.date = c.baseline_date + d;
    f.targets["T1"] = v == 0 ? with_status(TargetStatus::kAbsent) : la(v);
    c.followups.push_back(f);
  }
  return c;
}

TEST(Recist11BestResponse, WithoutConfirmationTheBestUntilProgression) {
  EXPECT_EQ(std::string(to_string(assessed(course({{56, 60}, {112, 90}, {168, 130}})).best_overall_response)), "PR");
  // Responses after PD do not count.
  EXPECT_EQ(std::string(to_string(assessed(course({{56, 130}, {112, 50}})).best_overall_response)), "PD");
  // SD counts only once the minimum interval (42 days) from baseline is met.
  EXPECT_EQ(std::string(to_string(assessed(course({{28, 95}})).best_overall_response)), "NE");
  EXPECT_EQ(std::string(to_string(assessed(course({{42, 95}})).best_overall_response)), "SD");
  // Too-early SD then PD is PD; too-early SD and nothing more is NE.
  EXPECT_EQ(std::string(to_string(assessed(course({{28, 95}, {84, 130}})).best_overall_response)), "PD");
  Case c = course({{28, 95}});
  c.sd_min_interval_days = 21;  // the interval is an input
  EXPECT_EQ(std::string(to_string(assessed(c).best_overall_response)), "SD");
}

// Table 3, first response then the next one 35 days later (confirmation required after 28
// days), row by row on time-point responses; the SD minimum interval is met or not.
TEST(Recist11Table3, EveryRow) {
  using R = Response;
  struct Row {
    R first, next;
    int first_day;
    const char* bor;
  };
  const Row rows[] = {
      {R::kCR, R::kCR, 56, "CR"}, {R::kCR, R::kSD, 56, "SD"}, {R::kCR, R::kSD, 35, "PD"}, {R::kCR, R::kPD, 56, "SD"},
      {R::kCR, R::kPD, 35, "PD"}, {R::kCR, R::kNE, 56, "SD"}, {R::kCR, R::kNE, 35, "NE"}, {R::kPR, R::kCR, 56, "PR"},
      {R::kPR, R::kPR, 56, "PR"}, {R::kPR, R::kSD, 56, "SD"}, {R::kPR, R::kSD, 35, "SD"}, {R::kPR, R::kPD, 56, "SD"},
      {R::kPR, R::kPD, 35, "PD"}, {R::kPR, R::kNE, 56, "SD"}, {R::kPR, R::kNE, 35, "NE"}, {R::kNE, R::kNE, 56, "NE"},
  };
  Case c;
  c.baseline_date = day("2025-01-06");
  c.confirmation_required = true;
  for (const Row& r : rows) {
    // "Not met" rows: neither assessment is 84 days from baseline.
    c.sd_min_interval_days = r.first_day < 42 ? 84 : 42;
    const BestResponse b =
        best_overall_response(c, {{c.baseline_date + r.first_day, r.first}, {c.baseline_date + r.first_day + 35, r.next}});
    EXPECT_EQ(std::string(to_string(b.response)), r.bor)
        << to_string(r.first) << " then " << to_string(r.next) << " at day " << r.first_day;
  }
}

// The same from measurements: CR then reappearance (PD against a nadir of 0), PR then PR.
TEST(Recist11Table3, FromMeasurements) {
  struct Row {
    double first, next;
    int first_day;
    const char* bor;
  };
  constexpr double ne = -1;  // not evaluated
  const Row rows[] = {{0, 0, 56, "CR"},  {0, 150, 56, "SD"}, {0, 150, 35, "PD"},  {0, ne, 35, "NE"},
                      {60, 0, 56, "PR"}, {60, 60, 56, "PR"}, {60, 150, 35, "PD"}, {60, ne, 56, "SD"}};
  for (const Row& r : rows) {
    Case c;
    c.baseline_date = day("2025-01-06");
    c.confirmation_required = true;
    c.lesions = {target("T1", "liver", 100)};
    for (const auto& [d, v] : {std::pair<int, double>{r.first_day, r.first}, {r.first_day + 35, r.next}}) {
      FollowUp f;
      f.date = c.baseline_date + d;
      if (v == 0)
        f.targets["T1"] = with_status(TargetStatus::kAbsent);
      else if (v > 0)
        f.targets["T1"] = la(v);
      c.followups.push_back(f);
    }
    EXPECT_EQ(std::string(to_string(assessed(c).best_overall_response)), r.bor)
        << r.first << " then " << r.next << " at day " << r.first_day;
  }
}

TEST(Recist11Table3, ConfirmationMustComeAtLeastTheIntervalLater) {
  // PR at day 56, PR again 14 days later (too soon), then PR at day 98: confirmed by the third.
  Case c = course({{56, 60}, {70, 60}, {98, 60}});
  c.confirmation_required = true;
  const Assessment a = assessed(c);
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "PR");
  ASSERT_TRUE(a.response_date.has_value());
  EXPECT_EQ(*a.response_date, c.followups[0].date);
  // Only the early one: not confirmed, SD (the SD interval is met at day 56).
  Case d = course({{56, 60}, {70, 60}});
  d.confirmation_required = true;
  EXPECT_EQ(std::string(to_string(assessed(d).best_overall_response)), "SD");
}

// ---- section 7: PFS and duration of response ----

TEST(Recist11Endpoints, ProgressionFreeSurvivalFromTheLineStart) {
  Case c = course({{56, 60}, {112, 50}, {168, 80}});
  c.treatment_start = c.baseline_date + 7;
  const Assessment a = assessed(c);
  ASSERT_TRUE(a.progression_date.has_value());  // 80 vs nadir 50: +60 %, +30 mm
  EXPECT_EQ(*a.pfs_days, 168 - 7);
  EXPECT_FALSE(a.pfs_censored);
  EXPECT_EQ(*a.duration_of_response_days, 168 - 56);
  const Assessment b = assessed(course({{56, 60}, {112, 55}}));
  EXPECT_FALSE(b.progression_date.has_value());
  EXPECT_TRUE(b.pfs_censored);
  EXPECT_EQ(*b.pfs_days, 112);
}

TEST(Recist11Endpoints, WarnsWhenTheBaselineIsOlderThanFourWeeks) {
  Case c = course({{84, 60}});
  c.treatment_start = c.baseline_date + 40;
  EXPECT_FALSE(assessed(c).warnings.empty());
  c.treatment_start = c.baseline_date + 20;
  EXPECT_TRUE(assessed(c).warnings.empty());
}

TEST(Dates, CalendarArithmetic) {
  EXPECT_EQ(day("1970-01-01"), 0);
  EXPECT_EQ(day("2025-05-14") - day("2025-01-15"), 119);
  EXPECT_EQ(day("2024-03-01") - day("2024-02-28"), 2);  // leap year
  EXPECT_EQ(format_date(day("2026-11-23")), "2026-11-23");
  EXPECT_FALSE(parse_date("2025-02-29").ok());
  EXPECT_FALSE(parse_date("2025-13-01").ok());
  EXPECT_FALSE(parse_date("25-01-01").ok());
  EXPECT_FALSE(parse_date("2025-01-01T00:00").ok());
}

}  // namespace
}  // namespace oq::recist
