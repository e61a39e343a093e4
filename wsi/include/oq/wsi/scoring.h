// Breast IHC scores from classified tumour cells, and the study's phenotype group
// (../shared/specs/ihc.md sections 1-3). Pure rules: the image analysis that classifies the cells
// feeds them, and `oncoquant phenotype` applies them to scores a pathologist gives.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace oq::wsi {

// ---- ER / PR: nuclear DAB intensity classes of tumour cells ----

struct NuclearCounts {
  std::size_t negative = 0, weak = 0, moderate = 0, strong = 0;  // 0, 1+, 2+, 3+
  std::size_t total() const { return negative + weak + moderate + strong; }
};

enum class ReceptorCategory { kPositive, kLowPositive, kNegative };
const char* to_string(ReceptorCategory c);

struct ReceptorScore {
  double percent_positive = 0;  // (1+ + 2+ + 3+) / all tumour cells
  double h_score = 0;           // 1 x %1+ + 2 x %2+ + 3 x %3+ (0-300)
  int allred_proportion = 0, allred_intensity = 0, allred_total = 0;
  ReceptorCategory category = ReceptorCategory::kNegative;  // >= 1 % positive; 1-10 % "low positive"
};

ReceptorScore score_receptor(const NuclearCounts& cells);
// The category of a percentage alone (for a pathologist's reported percent).
ReceptorCategory receptor_category(double percent_positive);

// ---- HER2: membrane pattern of tumour cells ----

struct MembraneCounts {
  std::size_t none = 0;                    // no staining
  std::size_t faint_incomplete = 0;        // incomplete, faint or barely perceptible
  std::size_t weak_moderate_complete = 0;  // complete, weak to moderate
  std::size_t intense_complete = 0;        // circumferential, complete, intense
  std::size_t unusual = 0;                 // moderate-to-intense but incomplete, or basolateral
  std::size_t total() const { return none + faint_incomplete + weak_moderate_complete + intense_complete + unusual; }
};

enum class Her2Score { k0, k1, k2, k3 };
const char* to_string(Her2Score s);  // "0", "1+", "2+", "3+"
std::optional<Her2Score> parse_her2_score(const std::string& text);

enum class Her2Category { kNegative, kUltralow, kLow, kEquivocal, kPositive };
const char* to_string(Her2Category c);

struct Her2Result {
  Her2Score score = Her2Score::k0;
  Her2Category category = Her2Category::kNegative;
  double percent_none = 0, percent_faint_incomplete = 0, percent_weak_moderate_complete = 0, percent_intense_complete = 0,
         percent_unusual = 0;
};

// ASCO/CAP 2018 (affirmed 2023): 3+ intense complete > 10 %; 2+ weak-moderate complete > 10 %, or
// an unusual pattern (intense complete <= 10 %, moderate-intense incomplete); 1+ faint incomplete
// > 10 %; else 0 - "ultralow" when some faint staining is seen.
// `unusual_min_percent`: the share of tumour cells from which a rare pattern counts - intense-complete
// staining in <= 10 % or an unusual pattern making 2+, faint staining making 0 "ultralow" (0: any
// cell, as a pathologist's own counts are read; image analysis sets about 1 % so that a few misread
// cells do not).
Her2Result score_her2(const MembraneCounts& cells, double unusual_min_percent = 0);

// ---- the phenotype group (section 1) ----

enum class Ish { kNotDone, kAmplified, kNotAmplified };

struct PhenotypeInput {
  double er_percent = 0, pr_percent = 0;
  Her2Score her2 = Her2Score::k0;
  bool her2_ultralow = false;  // IHC 0 with faint staining in <= 10 % (known only from the membrane counts)
  Ish ish = Ish::kNotDone;
};

struct Phenotype {
  std::optional<int> group;  // 1, 2, 3 or none (2+ without ISH: never guessed)
  std::string label;
  std::string hr_status;    // positive / negative
  std::string her2_status;  // positive / negative / equivocal
  std::vector<std::string> flags;
};

Phenotype assign_phenotype(const PhenotypeInput& in);

}  // namespace oq::wsi
