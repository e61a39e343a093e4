// oncoquant store: the study store (SQLite) from the command line - import a treatment line's
// case, record a measurement or a correction, show a lesion's history and the audit log (issue 5).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "commands.h"
#include "oq/diagnostics.h"
#include "oq/json_input.h"
#include "oq/recist/case_json.h"
#include "oq/recist/store.h"
#include "oq/serialize.h"
#include "store_import_sr.h"

namespace oq::cli {
namespace {

const char* kStoreUsage =
    "usage: oncoquant store import-case CASE.json --db STORE --patient ID --line N [--regimen TEXT] [--author NAME]\n"
    "       oncoquant store measure --db STORE --patient ID --lesion LABEL --date YYYY-MM-DD\n"
    "                               [--long-axis MM] [--short-axis MM] [--status S] [--method edited|manual|automatic]\n"
    "                               [--author NAME]\n"
    "       oncoquant store review --db STORE --patient ID --date YYYY-MM-DD --state confirmed|corrected|pending\n"
    "                              [--author NAME]\n"
    "       oncoquant store history --db STORE --patient ID --lesion LABEL [--json]\n"
    "       oncoquant store audit --db STORE [--json]\n"
    "       oncoquant store import-sr SR.dcm --db STORE --patient ID [--images DIR] [--author NAME]\n"
    "       oncoquant store add-line --db STORE --patient ID --line N --start YYYY-MM-DD [--regimen TEXT]\n"
    "                                [--criteria RECIST1.1|iRECIST] [--author NAME]\n"
    "       oncoquant store add-non-target --db STORE --patient ID --line N --lesion LABEL --date YYYY-MM-DD\n"
    "                                [--organ TEXT] [--nodal] [--status present|absent|not-evaluated] [--author NAME]\n"
    "  The study store is one SQLite file, created on first use. import-case writes a treatment line (its\n"
    "  baseline, targets, non-targets and follow-ups, recist-case.schema.json) in one transaction.\n"
    "  measure records a new value for a lesion at a time point; the previous one is kept and the new one is\n"
    "  in force (default method: edited). review records a reader's review of a time point: once confirmed,\n"
    "  its automatic values (from `oncoquant track --db`) are the reader's too, and `recist assess` no longer\n"
    "  warns that they await review. Every write is in the append-only audit log with its author\n"
    "  (--author, default $USER). import-sr reads a TID 1500 SR a reader edited (in OHIF, say) back as edited\n"
    "  measurements at the time point of its study: each matched to a lesion by its Tracking UID, else by\n"
    "  lying on one (--images DIR: the folder holding the images it was drawn on); what matches nothing is\n"
    "  listed. add-line opens a treatment line (its start date, regimen and criteria) before any measurement\n"
    "  of it, as `batch` does from its worklist; its baseline is the last scan on or before the start.\n"
    "  add-non-target notes a non-target lesion as a reader does, without measuring it (RECIST assesses\n"
    "  non-targets qualitatively): the lesion, its role in the line and its status at the date.\n";

std::string author(const Args& args) {
  if (args.has("--author")) return args.get("--author");
  const char* user = std::getenv("USER");
  return user ? user : "unknown";
}

std::optional<double> number(const Args& args, const std::string& flag, std::string* error) {
  if (!args.has(flag)) return std::nullopt;
  // Up to a metre: a longer 'lesion' is a typing error.
  if (const auto v = parse_number(args.get(flag), 0, 1000)) return v;
  *error = flag + " needs a length in mm (0-1000), not '" + args.get(flag) + "'";
  return std::nullopt;
}

int import_case(const Args& args, const std::string& db, const recist::Actor& who) {
  if (args.positional().size() != 2 || !args.has("--patient") || !args.has("--line"))
    return usage_fail("import-case needs CASE.json, --patient and --line", kStoreUsage);
  const auto parsed = parse_integer(args.get("--line"), 1, 999);
  if (!parsed) return usage_fail("--line needs a treatment line number 1-999, not '" + args.get("--line") + "'", kStoreUsage);
  const int line = static_cast<int>(*parsed);
  const std::string path = args.positional()[1];
  auto text = read_small_file(path);
  if (!text) return fail(text.error().describe());
  auto c = recist::parse_case(*text, path);
  if (!c) return fail(c.error().describe());
  // Only assessable cases go in: the same rules as `recist assess`.
  const auto problems = recist::check_case(c.value());
  if (!problems.empty()) {
    std::string msg = path + ": the case breaks RECIST rules, nothing stored:";
    for (const auto& p : problems) msg += "\n  " + p.describe();
    return fail(msg);
  }
  auto store = recist::open_sqlite_store(db);
  if (!store) return fail(store.error().describe());
  auto r = store.value()->import_case(args.get("--patient"), line, args.get("--regimen"), c.value(), who);
  if (!r) return fail(r.error().about(db).describe());
  std::fprintf(oq::diag(), "stored %s line %d (%zu follow-ups) in %s\n", args.get("--patient").c_str(), line,
               c.value().followups.size(), db.c_str());
  return 0;
}

int add_line(const Args& args, const std::string& db, const recist::Actor& who) {
  if (!args.has("--patient") || !args.has("--line") || !args.has("--start"))
    return usage_fail("add-line needs --patient, --line and --start", kStoreUsage);
  const auto line = parse_integer(args.get("--line"), 1, 99);
  if (!line) return usage_fail("--line needs a treatment line number 1-99, not '" + args.get("--line") + "'", kStoreUsage);
  auto start = recist::parse_date(args.get("--start"));
  if (!start) return usage_fail("--start: " + start.error().message(), kStoreUsage);
  const std::string criteria = args.get("--criteria", "RECIST1.1");
  if (criteria != "RECIST1.1" && criteria != "iRECIST") return usage_fail("--criteria must be RECIST1.1 or iRECIST", kStoreUsage);
  auto store = recist::open_sqlite_store(db);
  if (!store) return fail(store.error().describe());
  const auto c = criteria == "iRECIST" ? recist::Criteria::kIrecist : recist::Criteria::kRecist11;
  auto r =
      store.value()->add_treatment_line(args.get("--patient"), static_cast<int>(*line), *start, args.get("--regimen"), c, who);
  if (!r) return fail(r.error().about(db).describe());
  return 0;
}

// A non-target noted without a measurement (a blastic bone lesion has no soft tissue to segment).
int add_non_target(const Args& args, const std::string& db, const recist::Actor& who) {
  for (const char* f : {"--patient", "--line", "--lesion", "--date"})
    if (!args.has(f)) return usage_fail(std::string("add-non-target needs ") + f, kStoreUsage);
  const auto line = parse_integer(args.get("--line"), 1, 99);
  if (!line) return usage_fail("--line needs a treatment line number 1-99, not '" + args.get("--line") + "'", kStoreUsage);
  auto date = recist::parse_date(args.get("--date"));
  if (!date) return usage_fail("--date: " + date.error().message(), kStoreUsage);
  const auto status = measurement_status_from(args.get("--status", "present"));
  if (!status || (*status != MeasurementStatus::kPresent && *status != MeasurementStatus::kAbsent &&
                  *status != MeasurementStatus::kNotEvaluated))
    return usage_fail("--status must be present, absent or not-evaluated for a non-target", kStoreUsage);
  auto store = recist::open_sqlite_store(db);
  if (!store) return fail(store.error().describe());
  recist::StudyStore& s = **store;
  const std::string patient = args.get("--patient"), label = args.get("--lesion");
  auto r = s.in_one_transaction([&]() -> Result<bool> {
    if (auto known = s.measurement_history(patient, label); !known) {
      if (known.error().code() != ErrorCode::kNotFound) return known.error();
      recist::LesionRecord lesion;
      lesion.label = label;
      lesion.organ = args.get("--organ", "unspecified");
      lesion.nodal = args.has("--nodal");
      if (auto added = s.add_lesion(patient, lesion, who); !added) return added.error();
    }
    if (auto role = s.set_role(patient, static_cast<int>(*line), label, LesionRole::kNonTarget, who); !role) return role.error();
    LesionMeasurement m;
    m.status = *status;
    m.method = MeasurementMethod::kManual;
    m.role = LesionRole::kNonTarget;
    m.lesion_id = label;
    if (auto id = s.record_measurement(patient, label, *date, m, who); !id) return id.error();
    return true;
  });
  if (!r) return fail(r.error().about(db).describe());
  return 0;
}

int measure(const Args& args, const std::string& db, const recist::Actor& who) {
  if (!args.has("--patient") || !args.has("--lesion") || !args.has("--date"))
    return usage_fail("measure needs --patient, --lesion and --date", kStoreUsage);
  auto date = recist::parse_date(args.get("--date"));
  if (!date) return usage_fail("--date: " + date.error().message(), kStoreUsage);
  LesionMeasurement m;
  std::string error;
  m.long_axis_mm = number(args, "--long-axis", &error);
  m.short_axis_mm = number(args, "--short-axis", &error);
  if (!error.empty()) return usage_fail(error, kStoreUsage);
  const auto status = measurement_status_from(args.get("--status", "measured"));
  if (!status)
    return usage_fail(
        "--status must be measured, absent, too-small, not-evaluated, present, increased or "
        "unequivocal-progression",
        kStoreUsage);
  m.status = *status;
  const auto method = measurement_method_from(args.get("--method", "edited"));
  if (!method) return usage_fail("--method must be edited, manual or automatic", kStoreUsage);
  m.method = *method;
  auto store = recist::open_sqlite_store(db);
  if (!store) return fail(store.error().describe());
  auto r = store.value()->record_measurement(args.get("--patient"), args.get("--lesion"), *date, m, who);
  if (!r) return fail(r.error().about(db).describe());
  return 0;
}

int review(const Args& args, const std::string& db, const recist::Actor& who) {
  if (!args.has("--patient") || !args.has("--date") || !args.has("--state"))
    return usage_fail("review needs --patient, --date and --state", kStoreUsage);
  auto date = recist::parse_date(args.get("--date"));
  if (!date) return usage_fail("--date: " + date.error().message(), kStoreUsage);
  const std::string state = args.get("--state");
  if (state != "confirmed" && state != "corrected" && state != "pending")
    return usage_fail("--state must be confirmed, corrected or pending", kStoreUsage);
  auto store = recist::open_sqlite_store(db);
  if (!store) return fail(store.error().describe());
  auto r = store.value()->set_review_state(args.get("--patient"), *date, state, who);
  if (!r) return fail(r.error().about(db).describe());
  return 0;
}

int history(const Args& args, recist::StudyStore& store, const std::string& db) {
  if (!args.has("--patient") || !args.has("--lesion")) return usage_fail("history needs --patient and --lesion", kStoreUsage);
  auto h = store.measurement_history(args.get("--patient"), args.get("--lesion"));
  if (!h) return fail(h.error().about(db).describe());
  Json out = Json::array();
  for (const auto& m : h.value()) {
    Json j = {{"id", m.id}, {"date", m.date}};
    j.update(to_json(m.value));
    j["supersedes"] = m.supersedes ? Json(*m.supersedes) : Json(nullptr);
    out.push_back(j);
  }
  if (args.has("--json")) {
    std::printf("%s\n", dump(out).c_str());
    return 0;
  }
  for (const auto& j : out)
    std::printf("#%-5lld %s  %-13s LA %-7s SA %-7s %-9s %s %s\n", j["id"].get<long long>(), j["date"].get<std::string>().c_str(),
                j["status"].get<std::string>().c_str(), j["long_axis_mm"].is_null() ? "-" : j["long_axis_mm"].dump().c_str(),
                j["short_axis_mm"].is_null() ? "-" : j["short_axis_mm"].dump().c_str(), j["method"].get<std::string>().c_str(),
                j["author"].get<std::string>().c_str(), j["recorded_at"].get<std::string>().c_str());
  return 0;
}

int audit(const Args& args, recist::StudyStore& store) {
  auto log = store.audit_log();
  if (!log) return fail(log.error().describe());
  if (args.has("--json")) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& e : log.value())
      out.push_back(
          {{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"action", e.action}, {"subject", e.subject}, {"details", e.details}});
    std::printf("%s\n", dump(out).c_str());
    return 0;
  }
  for (const auto& e : log.value())
    std::printf("%s  %-16s %-20s %s  %s\n", e.at.c_str(), e.actor.c_str(), e.action.c_str(), e.subject.c_str(),
                e.details.c_str());
  return 0;
}

}  // namespace

int cmd_store(int argc, char** argv) {
  Args args(argc, argv, 2,
            {"--db", "--patient", "--line", "--regimen", "--author", "--lesion", "--date", "--long-axis", "--short-axis",
             "--status", "--method", "--state", "--images", "--start", "--criteria", "--organ"},
            {"--help", "--json", "--nodal"});
  if (args.has("--help")) {
    std::fputs(kStoreUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kStoreUsage);
  if (args.positional().empty()) return usage_fail("store needs an action", kStoreUsage);
  const std::string action = args.positional()[0];
  if (!args.has("--db")) return usage_fail("store needs --db STORE", kStoreUsage);
  const std::string db = args.get("--db");
  const recist::Actor who{author(args)};

  if (action == "import-sr") {
    if (args.positional().size() != 2 || !args.has("--patient"))
      return usage_fail("import-sr needs SR.dcm and --patient", kStoreUsage);
    return store_import_sr(args, db, who);
  }
  if (action == "import-case") return import_case(args, db, who);
  if (args.positional().size() != 1) return usage_fail("unexpected '" + args.positional()[1] + "'", kStoreUsage);
  if (action == "add-line") return add_line(args, db, who);
  if (action == "add-non-target") return add_non_target(args, db, who);
  if (action == "measure") return measure(args, db, who);
  if (action == "review") return review(args, db, who);
  if (action != "history" && action != "audit") return usage_fail("unknown store action '" + action + "'", kStoreUsage);
  // history and audit only read: a missing store is not created, a read-only one is fine.
  auto store = recist::open_sqlite_store(db, recist::StoreAccess::kReadOnly);
  if (!store) return fail(store.error().describe());
  return action == "history" ? history(args, **store, db) : audit(args, **store);
}

}  // namespace oq::cli
