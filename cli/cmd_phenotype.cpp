// oncoquant phenotype: the study's phenotype group from ER, PR and HER2 (issue 6), exactly as
// ../shared/specs/ihc.md states the rules. Scores come from `oncoquant ihc` JSON or are given.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "args.h"
#include "commands.h"
#include "oq/wsi/scoring.h"

namespace oq::cli {
namespace {

const char* kPhenotypeUsage =
    "usage: oncoquant phenotype (--er ER.json | --er-pct P) (--pr PR.json | --pr-pct P)\n"
    "                           (--her2 HER2.json | --her2-score 0|1+|2+|3+) [--ish amplified|not-amplified] [--json]\n"
    "  The phenotype group of the study protocol: 1 HR+/HER2-, 2 HER2+, 3 triple negative, or none when HER2 is\n"
    "  2+ without an ISH result (\"ISH required\": never guessed). ER/PR positive from 1 % of tumour nuclei (1-10 %\n"
    "  flagged low positive); HER2-low (1+, or 2+ not amplified) and HER2-ultralow are flagged.\n"
    "  --er/--pr/--her2 take the JSON `oncoquant ihc` prints (percent_positive; her2.score and her2.category).\n";

bool read_json(const std::string& path, nlohmann::json* out, std::string* error) {
  auto parsed = read_json_file(path);
  if (!parsed) {
    *error = parsed.error().describe();
    return false;
  }
  *out = std::move(parsed.value());
  return true;
}

// Why an `ihc` result gives no score (its "evaluable" false), or empty.
std::string not_evaluable(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("evaluable") || !j["evaluable"].is_boolean() || j["evaluable"].get<bool>()) return "";
  const auto it = j.find("not_evaluable_reason");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "no reason given";
}

// A percentage from --X-pct or the percent_positive of --X's JSON; 1 on a bad input, 2 on usage.
int percent(const Args& args, const std::string& marker, double* out) {
  const std::string file_flag = "--" + marker, pct_flag = "--" + marker + "-pct";
  if (args.has(file_flag) == args.has(pct_flag))
    return usage_fail("give one of " + file_flag + " and " + pct_flag, kPhenotypeUsage);
  if (args.has(pct_flag)) {
    const auto pct = parse_number(args.get(pct_flag), 0, 100);
    if (!pct) return usage_fail(pct_flag + " needs a percentage 0-100, not '" + args.get(pct_flag) + "'", kPhenotypeUsage);
    *out = *pct;
    return 0;
  }
  nlohmann::json j;
  std::string error;
  if (!read_json(args.get(file_flag), &j, &error)) return fail(error);
  if (const std::string why = not_evaluable(j); !why.empty())
    return fail(args.get(file_flag) + ": not evaluable (" + why + "): no phenotype group from it");
  if (!j.contains("percent_positive") || !j["percent_positive"].is_number())
    return fail(args.get(file_flag) + ": no percent_positive (is it `oncoquant ihc` output for " + marker + "?)");
  *out = j["percent_positive"].get<double>();
  return 0;
}

}  // namespace

int cmd_phenotype(int argc, char** argv) {
  Args args(argc, argv, 2, {"--er", "--er-pct", "--pr", "--pr-pct", "--her2", "--her2-score", "--ish"}, {"--json", "--help"});
  if (args.has("--help")) {
    std::fputs(kPhenotypeUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kPhenotypeUsage);
  if (!args.positional().empty()) return usage_fail("unexpected '" + args.positional()[0] + "'", kPhenotypeUsage);
  wsi::PhenotypeInput in;
  if (int rc = percent(args, "er", &in.er_percent)) return rc;
  if (int rc = percent(args, "pr", &in.pr_percent)) return rc;
  if (args.has("--her2") == args.has("--her2-score")) return usage_fail("give one of --her2 and --her2-score", kPhenotypeUsage);
  if (args.has("--her2-score")) {
    const auto s = wsi::parse_her2_score(args.get("--her2-score"));
    if (!s) return usage_fail("--her2-score must be 0, 1+, 2+ or 3+", kPhenotypeUsage);
    in.her2 = *s;
  } else {
    nlohmann::json j;
    std::string error;
    if (!read_json(args.get("--her2"), &j, &error)) return fail(error);
    if (const std::string why = not_evaluable(j); !why.empty())
      return fail(args.get("--her2") + ": not evaluable (" + why + "): no phenotype group from it");
    const auto score = j.contains("her2") && j["her2"].contains("score") && j["her2"]["score"].is_string()
                           ? wsi::parse_her2_score(j["her2"]["score"].get<std::string>())
                           : std::nullopt;
    if (!score) return fail(args.get("--her2") + ": no her2.score (is it `oncoquant ihc --marker HER2` output?)");
    in.her2 = *score;
    in.her2_ultralow = j["her2"].value("category", "") == "ultralow";
  }
  if (args.has("--ish")) {
    const std::string v = args.get("--ish");
    if (v == "amplified")
      in.ish = wsi::Ish::kAmplified;
    else if (v == "not-amplified")
      in.ish = wsi::Ish::kNotAmplified;
    else
      return usage_fail("--ish must be amplified or not-amplified", kPhenotypeUsage);
  }
  const wsi::Phenotype p = wsi::assign_phenotype(in);
  if (args.has("--json")) {
    nlohmann::ordered_json j;
    j["group"] = p.group ? nlohmann::ordered_json(*p.group) : nlohmann::ordered_json(nullptr);
    j["label"] = p.label;
    j["hr_status"] = p.hr_status;
    j["her2_status"] = p.her2_status;
    j["flags"] = p.flags;
    j["er_percent"] = in.er_percent;
    j["pr_percent"] = in.pr_percent;
    j["her2_score"] = wsi::to_string(in.her2);
    j["ish"] = in.ish == wsi::Ish::kAmplified ? "amplified" : in.ish == wsi::Ish::kNotAmplified ? "not-amplified" : "not done";
    std::printf("%s\n", dump(j).c_str());
  } else {
    std::printf("group %s: %s (HR %s, HER2 %s)\n", p.group ? std::to_string(*p.group).c_str() : "none", p.label.c_str(),
                p.hr_status.c_str(), p.her2_status.c_str());
    for (const auto& f : p.flags) std::printf("  %s\n", f.c_str());
  }
  return 0;
}

}  // namespace oq::cli
