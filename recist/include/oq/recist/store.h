// The study store: patients (pseudonymous), studies, series, time points, treatment lines,
// lesions with tracking UIDs and their role per line, measurements (automatic, edited or manual;
// an edit never overwrites), review state and an append-only audit log. SQLite by default
// (`open_sqlite_store`); the interface is narrow so a PostgreSQL store can sit behind it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/measurement.h"
#include "oq/recist/case.h"

namespace oq::recist {

using RowId = std::int64_t;

// Who does something, for the audit log ("oncoquant batch", a reader's name, ...).
struct Actor {
  std::string name;
};

struct LesionRecord {
  std::string tracking_uid;  // DICOM TID 1500 Tracking UID; stays with the lesion across time points
  std::string label;         // what readers call it in this patient: T1, N1, NT2, ...
  std::string organ;
  bool nodal = false;
  BoneLesion bone = BoneLesion::kNone;
  bool previously_irradiated = false;
};

// One stored value of a lesion at a time point (oq/measurement.h: status, calipers, method, author,
// time); `supersedes` is the value it corrects at that time point, which stays.
struct StoredMeasurement {
  RowId id = 0;
  std::string date;  // the time point, ISO 8601
  LesionMeasurement value;
  std::optional<RowId> supersedes;
};

// What tracking proposes at one follow-up time point: automatic values for a reader to review.
struct LesionProposal {
  std::string label;  // a lesion already in the store (the baseline's T1, N1, NT1, ...)
  bool found = false;
  std::optional<double> long_axis_mm, short_axis_mm, volume_ml;
  std::optional<Caliper> long_axis, short_axis;  // where tracking measured them
  std::optional<LesionMask> mask;                // the follow-up segmentation (for the reports' SEG)
};
// Something that may be a new lesion (new uptake on PET): stored as an equivocal new lesion, which
// RECIST does not count as progression until a reader confirms it.
struct CandidateNewLesion {
  std::string organ = "unknown";
  Vec3 location{};  // where it is (LPS mm): its hottest voxel, for the reader to look
  std::optional<double> long_axis_mm;
};
struct FollowUpProposals {
  int date = 0;
  std::string study_uid, series_uid;  // the follow-up CT the values come from
  std::vector<LesionProposal> lesions;
  std::vector<CandidateNewLesion> candidates;
};
struct ProposalsRecorded {
  std::vector<std::string> recorded;             // labels given an automatic value
  std::vector<std::string> kept_readers_values;  // a reader had already measured these: left alone
  std::vector<std::string> candidate_labels;     // NEW-YYYY-MM-DD-k, hottest first
};

// A time point whose values in force include automatic proposals nobody has reviewed yet.
struct PendingReview {
  int date = 0;
  int automatic_values = 0;
};

// What the store holds of one patient, for the reports: treatment lines, time points with their
// studies and series, lesions and their role in each line.
struct SeriesRecord {
  std::string series_uid, modality;
  std::optional<double> slice_thickness_mm;
};
struct TimePointRecord {
  int date = 0;
  std::string study_uid;     // "" for a time point recorded without its imaging study (a case file)
  std::string review_state;  // pending, confirmed, corrected
  std::vector<SeriesRecord> series;
};
struct TreatmentLineRecord {
  int number = 0;
  int start_date = 0;
  std::string regimen;
  Criteria criteria = Criteria::kRecist11;
};
struct PatientRecord {
  std::string pseudonym;
  std::vector<TreatmentLineRecord> lines;                  // by number
  std::vector<TimePointRecord> time_points;                // by date
  std::vector<LesionRecord> lesions;                       // in the order they were added
  std::map<int, std::map<std::string, LesionRole>> roles;  // line number -> lesion label -> role
};

struct AuditEntry {
  RowId id = 0;
  std::string at, actor, action, subject, details;
};

class StudyStore {
 public:
  virtual ~StudyStore() = default;
  StudyStore() = default;
  StudyStore(const StudyStore&) = delete;
  StudyStore& operator=(const StudyStore&) = delete;

  virtual int schema_version() const = 0;

  virtual Result<RowId> ensure_patient(const std::string& pseudonym, const Actor& who) = 0;
  virtual Result<RowId> ensure_time_point(const std::string& pseudonym, int date, const std::string& study_uid,
                                          const Actor& who) = 0;
  virtual Result<RowId> ensure_series(const std::string& pseudonym, int date, const std::string& study_uid,
                                      const std::string& series_uid, const std::string& modality,
                                      std::optional<double> slice_thickness_mm, const Actor& who) = 0;
  virtual Result<RowId> add_treatment_line(const std::string& pseudonym, int line_number, int start_date,
                                           const std::string& regimen, Criteria criteria, const Actor& who) = 0;
  virtual Result<RowId> add_lesion(const std::string& pseudonym, const LesionRecord& lesion, const Actor& who) = 0;
  virtual Result<bool> set_role(const std::string& pseudonym, int line_number, const std::string& label, LesionRole role,
                                const Actor& who) = 0;
  // A new measurement of `label` at `date`. An edit or a manual value is stored beside the
  // automatic one it corrects, which stays; the newest is the one in force.
  virtual Result<RowId> record_measurement(const std::string& pseudonym, const std::string& label, int date,
                                           const LesionMeasurement& m, const Actor& who) = 0;
  virtual Result<std::vector<StoredMeasurement>> measurement_history(const std::string& pseudonym, const std::string& label) = 0;
  // The segmentation a measurement was made from (what a DICOM SEG is written from), kept beside it.
  virtual Result<bool> record_mask(RowId measurement, const LesionMask& mask, const Actor& who) = 0;
  virtual Result<std::optional<LesionMask>> mask_of(RowId measurement) = 0;
  // Runs `steps`, calls on this store, as one transaction: all of them or, on an error, none.
  virtual Result<bool> in_one_transaction(const std::function<Result<bool>()>& steps) = 0;
  // Review state of a time point ("pending", "confirmed", "corrected").
  virtual Result<bool> set_review_state(const std::string& pseudonym, int date, const std::string& state, const Actor& who) = 0;
  // The line's time points still pending review whose values in force include automatic ones (a
  // response computed from them rests on proposals no reader has looked at).
  virtual Result<std::vector<PendingReview>> pending_reviews(const std::string& pseudonym, int line_number) = 0;

  // Tracking's proposals for one follow-up of a line, in one transaction. A target found is
  // "measured", a non-target or earlier new lesion "present"; one not found is "absent" (flagged
  // for the reader by the time point's review state, which becomes "pending"). A lesion a reader
  // has already measured at that date keeps the reader's value. Candidates are added as equivocal
  // new lesions labelled NEW-<date>-k; running again gives them the same labels.
  virtual Result<ProposalsRecorded> record_proposals(const std::string& pseudonym, int line_number,
                                                     const FollowUpProposals& proposals, const Actor& who) = 0;

  // Writes a whole case (baseline lesions, roles, every follow-up) for one line in one
  // transaction: all of it or, if anything fails or the process dies, none. `after_row` is
  // called after each row (progress; tests use it to kill a writer mid-way).
  virtual Result<bool> import_case(const std::string& pseudonym, int line_number, const std::string& regimen, const Case& c,
                                   const Actor& who, const std::function<void(size_t rows)>& after_row = {}) = 0;

  // The case of one treatment line, built from the measurements in force: its baseline is the
  // last time point on or before the line's start, its follow-ups run until the next line starts.
  virtual Result<Case> build_case(const std::string& pseudonym, int line_number) = 0;
  virtual Result<std::vector<int>> treatment_lines(const std::string& pseudonym) = 0;

  // Everything the store holds of one patient except the measurements (measurement_history).
  virtual Result<PatientRecord> patient_record(const std::string& pseudonym) = 0;

  virtual Result<std::vector<AuditEntry>> audit_log() = 0;
};

enum class StoreAccess {
  kReadWrite,  // created if missing, schema brought to the current version
  kReadOnly,   // must exist; never created, migrated or written (a read-only file or folder is fine)
};

// Opens an SQLite study store. Read-write: creates it if needed and brings its schema to the
// current version, each migration in its own transaction. Either way an SQLite file that is not an
// OncoQuant store is refused, never changed.
Result<std::unique_ptr<StudyStore>> open_sqlite_store(const std::string& path, StoreAccess access = StoreAccess::kReadWrite);

}  // namespace oq::recist
