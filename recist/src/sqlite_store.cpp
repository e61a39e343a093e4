// The SQLite study store. SQLite stays inside this file (the adapter); callers see StudyStore.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "oq/recist/store.h"

namespace oq::recist {
namespace {

// ---- a thin RAII layer over the C API ----

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) error_ = sqlite3_errmsg(db);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, const char* v) { return bind(i, std::string(v)); }
  struct Blob {
    const std::string& bytes;
  };
  Statement& bind(int i, Blob v) {
    sqlite3_bind_blob(stmt_, i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    if (v) return bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // One step: true while a row is ready.
  bool step() {
    if (!error_.empty()) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
    return false;
  }
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<double> optional_real(int col) const { return null(col) ? std::nullopt : std::optional<double>(real(col)); }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  std::string blob(int col) const {
    const void* b = sqlite3_column_blob(stmt_, col);
    return b ? std::string(static_cast<const char*>(b), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string error_;
};

std::string now_utc() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A fresh DICOM UID under the 2.25 root: a random integer below 10^38 (< 2^128, as the root
// requires) in decimal, about 126 bits of randomness.
std::string new_tracking_uid() {
  static std::random_device rd;
  static std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  std::uniform_int_distribution<int> first(1, 9), digit(0, 9);
  std::string uid = "2.25.";
  uid += static_cast<char>('0' + first(gen));
  for (int i = 0; i < 37; ++i) uid += static_cast<char>('0' + digit(gen));
  return uid;
}

int day_of(const std::string& iso) {
  const Result<int> d = parse_date(iso);
  return d.ok() ? d.value() : 0;
}

const char* bone_name(BoneLesion b) {
  switch (b) {
    case BoneLesion::kLytic:
      return "lytic";
    case BoneLesion::kMixed:
      return "mixed";
    case BoneLesion::kBlastic:
      return "blastic";
    case BoneLesion::kNone:
      break;
  }
  return "";
}

BoneLesion bone_of(const std::string& s) {
  if (s == "lytic") return BoneLesion::kLytic;
  if (s == "mixed") return BoneLesion::kMixed;
  if (s == "blastic") return BoneLesion::kBlastic;
  return BoneLesion::kNone;
}

// The RECIST rules' own status types and the stored status (oq/measurement.h).
MeasurementStatus observed(TargetStatus s) {
  switch (s) {
    case TargetStatus::kMeasured:
      return MeasurementStatus::kMeasured;
    case TargetStatus::kAbsent:
      return MeasurementStatus::kAbsent;
    case TargetStatus::kTooSmall:
      return MeasurementStatus::kTooSmall;
    case TargetStatus::kNotEvaluated:
      return MeasurementStatus::kNotEvaluated;
  }
  return MeasurementStatus::kNotEvaluated;
}

MeasurementStatus observed(LesionStatus s) {
  switch (s) {
    case LesionStatus::kAbsent:
      return MeasurementStatus::kAbsent;
    case LesionStatus::kPresent:
      return MeasurementStatus::kPresent;
    case LesionStatus::kIncreased:
      return MeasurementStatus::kIncreased;
    case LesionStatus::kUnequivocalProgression:
      return MeasurementStatus::kUnequivocalProgression;
    case LesionStatus::kNotEvaluated:
      return MeasurementStatus::kNotEvaluated;
  }
  return MeasurementStatus::kNotEvaluated;
}

LesionStatus lesion_status_of(MeasurementStatus s) {
  switch (s) {
    case MeasurementStatus::kAbsent:
      return LesionStatus::kAbsent;
    case MeasurementStatus::kIncreased:
      return LesionStatus::kIncreased;
    case MeasurementStatus::kUnequivocalProgression:
      return LesionStatus::kUnequivocalProgression;
    case MeasurementStatus::kNotEvaluated:
      return LesionStatus::kNotEvaluated;
    default:
      return LesionStatus::kPresent;
  }
}

TargetStatus target_status_of(MeasurementStatus s) {
  switch (s) {
    case MeasurementStatus::kAbsent:
      return TargetStatus::kAbsent;
    case MeasurementStatus::kTooSmall:
      return TargetStatus::kTooSmall;
    case MeasurementStatus::kNotEvaluated:
      return TargetStatus::kNotEvaluated;
    default:
      return TargetStatus::kMeasured;
  }
}

// A stored status name as the enum; the schema's CHECK constraint admits only known names.
MeasurementStatus status_of(const std::string& name) {
  return measurement_status_from(name).value_or(MeasurementStatus::kNotEvaluated);
}

// A mask's voxels as run lengths (32-bit little-endian), alternating outside and inside and
// starting outside: a lesion's box holds a few long runs per row, a hundredth of its voxels.
std::string mask_runs(const std::vector<std::uint8_t>& inside) {
  std::string out;
  auto put = [&out](std::uint32_t n) {
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((n >> (8 * b)) & 0xff));
  };
  bool state = false;
  std::uint32_t run = 0;
  for (const std::uint8_t v : inside) {
    if ((v != 0) != state) {
      put(run);
      state = !state;
      run = 0;
    }
    ++run;
  }
  put(run);
  return out;
}

// The voxels back from their runs; nothing when the runs do not add up to `count`.
std::optional<std::vector<std::uint8_t>> mask_voxels(const std::string& runs, std::size_t count) {
  if (runs.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(count);
  bool state = false;
  for (std::size_t i = 0; i < runs.size(); i += 4) {
    std::uint32_t n = 0;
    for (int b = 0; b < 4; ++b)
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(runs[i + static_cast<std::size_t>(b)])) << (8 * b);
    if (n > count - out.size()) return std::nullopt;
    out.insert(out.end(), n, state ? 1 : 0);
    state = !state;
  }
  if (out.size() != count) return std::nullopt;
  return out;
}

std::string numbers_json(const std::vector<double>& v) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  out << ']';
  return out.str();
}

std::vector<double> numbers_of(const std::string& s) {
  std::vector<double> out;
  std::string t = s;
  for (char& ch : t)
    if (ch == '[' || ch == ']' || ch == ',') ch = ' ';
  std::istringstream in(t);
  double v = 0;
  while (in >> v) out.push_back(v);
  return out;
}

// Schema migrations, in order; the store's version is how many have run. Never edit one that
// has shipped: add the next.
const char* const kMigrations[] = {
    // 1: the first schema.
    R"(
CREATE TABLE patients(id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE studies(id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL REFERENCES patients(id),
  study_uid TEXT NOT NULL UNIQUE, study_date TEXT NOT NULL);
CREATE TABLE time_points(id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL REFERENCES patients(id),
  date TEXT NOT NULL, study_id INTEGER REFERENCES studies(id),
  review_state TEXT NOT NULL DEFAULT 'pending' CHECK(review_state IN ('pending','confirmed','corrected')),
  UNIQUE(patient_id, date));
CREATE TABLE series(id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES studies(id),
  series_uid TEXT NOT NULL UNIQUE, modality TEXT NOT NULL, slice_thickness_mm REAL);
CREATE TABLE treatment_lines(id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL REFERENCES patients(id),
  line_number INTEGER NOT NULL CHECK(line_number >= 1), start_date TEXT NOT NULL, regimen TEXT NOT NULL DEFAULT '',
  criteria TEXT NOT NULL CHECK(criteria IN ('RECIST1.1','iRECIST')),
  confirmation_required INTEGER NOT NULL DEFAULT 0, confirmation_interval_days INTEGER NOT NULL DEFAULT 28,
  sd_min_interval_days INTEGER NOT NULL DEFAULT 42,
  baseline_modality TEXT NOT NULL DEFAULT 'CT', baseline_slice_thickness_mm REAL,
  UNIQUE(patient_id, line_number));
CREATE TABLE lesions(id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL REFERENCES patients(id),
  tracking_uid TEXT NOT NULL UNIQUE, label TEXT NOT NULL, organ TEXT NOT NULL, nodal INTEGER NOT NULL DEFAULT 0,
  bone TEXT NOT NULL DEFAULT '' CHECK(bone IN ('','lytic','mixed','blastic')),
  previously_irradiated INTEGER NOT NULL DEFAULT 0, UNIQUE(patient_id, label));
CREATE TABLE lesion_roles(line_id INTEGER NOT NULL REFERENCES treatment_lines(id),
  lesion_id INTEGER NOT NULL REFERENCES lesions(id),
  role TEXT NOT NULL CHECK(role IN ('target','non-target','new')), PRIMARY KEY(line_id, lesion_id));
CREATE TABLE measurements(id INTEGER PRIMARY KEY, lesion_id INTEGER NOT NULL REFERENCES lesions(id),
  time_point_id INTEGER NOT NULL REFERENCES time_points(id), series_uid TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK(status IN ('measured','absent','too-small','not-evaluated','present','increased','unequivocal-progression')),
  long_axis_mm REAL, short_axis_mm REAL, volume_ml REAL, fragments_json TEXT NOT NULL DEFAULT '[]',
  merged_into_lesion_id INTEGER REFERENCES lesions(id), unequivocal INTEGER NOT NULL DEFAULT 1,
  endpoints_json TEXT NOT NULL DEFAULT '',
  method TEXT NOT NULL CHECK(method IN ('automatic','edited','manual')), author TEXT NOT NULL,
  recorded_at TEXT NOT NULL, supersedes INTEGER REFERENCES measurements(id));
CREATE INDEX measurements_by_lesion ON measurements(lesion_id, time_point_id);
CREATE TABLE audit_log(id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  subject TEXT NOT NULL, details TEXT NOT NULL DEFAULT '');
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER measurements_no_update BEFORE UPDATE ON measurements
  BEGIN SELECT RAISE(ABORT, 'measurements are never overwritten: record a new one'); END;
CREATE TRIGGER measurements_no_delete BEFORE DELETE ON measurements
  BEGIN SELECT RAISE(ABORT, 'measurements are never deleted: record a new one'); END;
)",
    // 2: typed geometry and PET values (issue 21). Calipers and a candidate's location become numbers
    // instead of JSON text; mean HU, SUV metrics and the mask reference get columns. The end points
    // stores written so far hold (the long axis as [[x,y,z],[x,y,z]], a candidate's hottest point as
    // [x,y,z]) are carried over; the append-only triggers are lifted only for that one UPDATE.
    R"(
CREATE TABLE calipers(measurement_id INTEGER NOT NULL REFERENCES measurements(id),
  axis TEXT NOT NULL CHECK(axis IN ('long','short')),
  a_x REAL NOT NULL, a_y REAL NOT NULL, a_z REAL NOT NULL, b_x REAL NOT NULL, b_y REAL NOT NULL, b_z REAL NOT NULL,
  sop_instance_uid TEXT NOT NULL DEFAULT '', frame INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(measurement_id, axis));
CREATE TRIGGER calipers_no_update BEFORE UPDATE ON calipers
  BEGIN SELECT RAISE(ABORT, 'measurements are never overwritten: record a new one'); END;
CREATE TRIGGER calipers_no_delete BEFORE DELETE ON calipers
  BEGIN SELECT RAISE(ABORT, 'measurements are never deleted: record a new one'); END;
INSERT INTO calipers(measurement_id, axis, a_x, a_y, a_z, b_x, b_y, b_z)
  SELECT id, 'long', json_extract(endpoints_json, '$[0][0]'), json_extract(endpoints_json, '$[0][1]'),
    json_extract(endpoints_json, '$[0][2]'), json_extract(endpoints_json, '$[1][0]'),
    json_extract(endpoints_json, '$[1][1]'), json_extract(endpoints_json, '$[1][2]')
  FROM measurements WHERE json_valid(endpoints_json) AND json_array_length(endpoints_json) = 2
    AND json_type(endpoints_json, '$[0][0]') IN ('integer','real') AND json_type(endpoints_json, '$[0][1]') IN ('integer','real')
    AND json_type(endpoints_json, '$[0][2]') IN ('integer','real') AND json_type(endpoints_json, '$[1][0]') IN ('integer','real')
    AND json_type(endpoints_json, '$[1][1]') IN ('integer','real') AND json_type(endpoints_json, '$[1][2]') IN ('integer','real');
ALTER TABLE measurements ADD COLUMN location_x REAL;
ALTER TABLE measurements ADD COLUMN location_y REAL;
ALTER TABLE measurements ADD COLUMN location_z REAL;
ALTER TABLE measurements ADD COLUMN mean_hu REAL;
ALTER TABLE measurements ADD COLUMN suv_max REAL;
ALTER TABLE measurements ADD COLUMN suv_peak REAL;
ALTER TABLE measurements ADD COLUMN suv_mean REAL;
ALTER TABLE measurements ADD COLUMN mtv_ml REAL;
ALTER TABLE measurements ADD COLUMN tlg REAL;
ALTER TABLE measurements ADD COLUMN sul_peak REAL;
ALTER TABLE measurements ADD COLUMN mask TEXT NOT NULL DEFAULT '';
DROP TRIGGER measurements_no_update;
UPDATE measurements SET location_x = json_extract(endpoints_json, '$[0]'), location_y = json_extract(endpoints_json, '$[1]'),
    location_z = json_extract(endpoints_json, '$[2]')
  WHERE json_valid(endpoints_json) AND json_array_length(endpoints_json) = 3
    AND json_type(endpoints_json, '$[0]') IN ('integer','real') AND json_type(endpoints_json, '$[1]') IN ('integer','real')
    AND json_type(endpoints_json, '$[2]') IN ('integer','real');
CREATE TRIGGER measurements_no_update BEFORE UPDATE ON measurements
  BEGIN SELECT RAISE(ABORT, 'measurements are never overwritten: record a new one'); END;
ALTER TABLE measurements DROP COLUMN endpoints_json;
CREATE TABLE masks(measurement_id INTEGER PRIMARY KEY REFERENCES measurements(id),
  offset_i INTEGER NOT NULL, offset_j INTEGER NOT NULL, offset_k INTEGER NOT NULL,
  size_i INTEGER NOT NULL CHECK(size_i > 0), size_j INTEGER NOT NULL CHECK(size_j > 0), size_k INTEGER NOT NULL CHECK(size_k > 0),
  runs BLOB NOT NULL);
CREATE TRIGGER masks_no_update BEFORE UPDATE ON masks
  BEGIN SELECT RAISE(ABORT, 'measurements are never overwritten: record a new one'); END;
CREATE TRIGGER masks_no_delete BEFORE DELETE ON masks
  BEGIN SELECT RAISE(ABORT, 'measurements are never deleted: record a new one'); END;
)",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);

class SqliteStore final : public StudyStore {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  // Brings the schema to the current version. Two processes creating the same new store at once
  // both succeed: each migration step re-reads the version inside its own write transaction, and a
  // writer that finds the store busy waits for it (up to the busy timeout) instead of failing.
  Result<bool> migrate() {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // Before anything that writes (switching to WAL rewrites the header): a foreign file stays untouched.
    if (auto v = current_version(true); !v) return v.error();
    if (auto r = exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"); !r) return r;
    // Switching a new file to WAL needs it to itself and does not wait on the busy handler: retry.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    for (;;) {
      const int rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) break;
      if (rc != SQLITE_BUSY || std::chrono::steady_clock::now() > give_up) return fail(sqlite3_errmsg(db_));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (;;) {
      if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
      auto version = current_version(true);
      Result<bool> step = version ? Result<bool>(true) : Result<bool>(version.error());
      if (step && *version >= kSchemaVersion) {
        if (auto c = exec("COMMIT"); !c) return c;
        version_ = *version;
        return true;
      }
      if (step) step = migrate_from(*version);
      if (!step) {
        exec("ROLLBACK");
        return step;
      }
      if (auto c = exec("COMMIT"); !c) return c;
    }
  }

  // A store opened only to read: the schema is checked, never changed.
  Result<bool> check_readable() {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    auto version = current_version(false);
    if (!version) return version.error();
    if (*version < kSchemaVersion)
      return Error(ErrorCode::kUnsupported,
                   "the store has schema version " + std::to_string(*version) +
                       "; open it once for writing (any store command that records) to upgrade it",
                   path_);
    version_ = *version;
    return true;
  }

  int schema_version() const override { return version_; }

  Result<RowId> ensure_patient(const std::string& pseudonym, const Actor& who) override {
    return in_transaction<RowId>([&]() { return patient_id(pseudonym, true, who); });
  }

  Result<RowId> ensure_time_point(const std::string& pseudonym, int date, const std::string& study_uid,
                                  const Actor& who) override {
    return in_transaction<RowId>([&]() -> Result<RowId> {
      auto p = patient_id(pseudonym, true, who);
      if (!p) return p;
      return time_point_id(*p, date, study_uid, true, who);
    });
  }

  Result<RowId> ensure_series(const std::string& pseudonym, int date, const std::string& study_uid, const std::string& series_uid,
                              const std::string& modality, std::optional<double> slice_thickness_mm, const Actor& who) override {
    return in_transaction<RowId>([&]() -> Result<RowId> {
      auto p = patient_id(pseudonym, true, who);
      if (!p) return p;
      auto tp = time_point_id(*p, date, study_uid, true, who);
      if (!tp) return tp;
      Statement find(db_, "SELECT id FROM series WHERE series_uid = ?");
      find.bind(1, series_uid);
      if (find.step()) return find.integer(0);
      Statement study(db_, "SELECT id FROM studies WHERE study_uid = ?");
      study.bind(1, study_uid);
      if (!study.step()) return fail("study " + study_uid + " is not in the store");
      Statement ins(db_, "INSERT INTO series(study_id, series_uid, modality, slice_thickness_mm) VALUES (?,?,?,?)");
      ins.bind(1, study.integer(0)).bind(2, series_uid).bind(3, modality).bind(4, slice_thickness_mm);
      ins.step();
      if (!ins.ok()) return fail(ins.error());
      const RowId id = sqlite3_last_insert_rowid(db_);
      if (auto a = audit(who, "add-series", pseudonym + "/" + series_uid, modality); !a) return a.error();
      return id;
    });
  }

  Result<RowId> add_treatment_line(const std::string& pseudonym, int line_number, int start_date, const std::string& regimen,
                                   Criteria criteria, const Actor& who) override {
    return in_transaction<RowId>([&]() -> Result<RowId> {
      auto p = patient_id(pseudonym, true, who);
      if (!p) return p;
      Case defaults;
      defaults.criteria = criteria;
      return insert_line(*p, pseudonym, line_number, start_date, regimen, defaults, who);
    });
  }

  Result<RowId> add_lesion(const std::string& pseudonym, const LesionRecord& lesion, const Actor& who) override {
    return in_transaction<RowId>([&]() -> Result<RowId> {
      auto p = patient_id(pseudonym, true, who);
      if (!p) return p;
      return insert_lesion(*p, pseudonym, lesion, who);
    });
  }

  Result<bool> set_role(const std::string& pseudonym, int line_number, const std::string& label, LesionRole role,
                        const Actor& who) override {
    return in_transaction<bool>([&]() -> Result<bool> {
      auto p = patient_id(pseudonym, false, who);
      if (!p) return p.error();
      auto line = line_row(*p, line_number);
      if (!line) return line.error();
      auto lesion = lesion_id(*p, label);
      if (!lesion) return lesion.error();
      return write_role(line->id, *lesion, pseudonym, line_number, label, role, who);
    });
  }

  Result<RowId> record_measurement(const std::string& pseudonym, const std::string& label, int date, const LesionMeasurement& m,
                                   const Actor& who) override {
    return in_transaction<RowId>([&]() -> Result<RowId> {
      auto p = patient_id(pseudonym, false, who);
      if (!p) return p;
      auto lesion = lesion_id(*p, label);
      if (!lesion) return lesion;
      auto tp = time_point_id(*p, date, "", true, who);
      if (!tp) return tp;
      return insert_measurement(*p, pseudonym, *lesion, label, *tp, date, m, who);
    });
  }

  Result<std::vector<StoredMeasurement>> measurement_history(const std::string& pseudonym, const std::string& label) override {
    auto p = patient_id(pseudonym, false, Actor{});
    if (!p) return p.error();
    auto lesion = lesion_id(*p, label);
    if (!lesion) return lesion.error();
    Statement q(db_,
                "SELECT m.id, t.date, m.status, m.long_axis_mm, m.short_axis_mm, m.volume_ml, m.fragments_json,"
                " COALESCE(l2.label, ''), m.unequivocal, m.series_uid, m.method, m.author, m.recorded_at, m.supersedes,"
                " m.location_x, m.location_y, m.location_z, m.mean_hu, m.suv_max, m.suv_peak, m.suv_mean, m.mtv_ml, m.tlg,"
                " m.sul_peak, m.mask, l.tracking_uid"
                " FROM measurements m JOIN time_points t ON t.id = m.time_point_id JOIN lesions l ON l.id = m.lesion_id"
                " LEFT JOIN lesions l2 ON l2.id = m.merged_into_lesion_id WHERE m.lesion_id = ? ORDER BY t.date, m.id");
    q.bind(1, *lesion);
    std::vector<StoredMeasurement> out;
    while (q.step()) {
      StoredMeasurement s;
      s.id = q.integer(0);
      s.date = q.text(1);
      LesionMeasurement& v = s.value;
      v.lesion_id = label;
      v.status = status_of(q.text(2));
      v.long_axis_mm = q.optional_real(3);
      v.short_axis_mm = q.optional_real(4);
      v.volume_ml = q.optional_real(5);
      v.fragments_mm = numbers_of(q.text(6));
      v.merged_into = q.text(7);
      v.unequivocal = q.integer(8) != 0;
      v.series_uid = q.text(9);
      v.method = measurement_method_from(q.text(10)).value_or(MeasurementMethod::kManual);
      v.author = q.text(11);
      v.recorded_at = q.text(12);
      if (!q.null(13)) s.supersedes = q.integer(13);
      if (!q.null(14) && !q.null(15) && !q.null(16)) v.location = Vec3{q.real(14), q.real(15), q.real(16)};
      v.mean_hu = q.optional_real(17);
      v.suv = SuvMetrics{q.optional_real(18), q.optional_real(19), q.optional_real(20),
                         q.optional_real(21), q.optional_real(22), q.optional_real(23)};
      v.mask = q.text(24);
      v.tracking_uid = q.text(25);
      out.push_back(s);
    }
    if (!q.ok()) return fail(q.error());
    for (StoredMeasurement& s : out)
      if (auto r = read_calipers(s.id, s.value); !r) return r.error();
    return out;
  }

  Result<bool> record_mask(RowId measurement, const LesionMask& mask, const Actor& who) override {
    const std::size_t count = mask.size[0] * mask.size[1] * mask.size[2];
    if (count == 0 || mask.inside.size() != count)
      return Error(ErrorCode::kInvalidArgument, "a mask's voxels do not fill its box",
                   "measurement #" + std::to_string(measurement));
    return in_transaction<bool>([&]() -> Result<bool> {
      Statement ins(db_,
                    "INSERT INTO masks(measurement_id, offset_i, offset_j, offset_k, size_i, size_j, size_k, runs)"
                    " VALUES (?,?,?,?,?,?,?,?)");
      const std::string runs = mask_runs(mask.inside);
      ins.bind(1, measurement);
      for (int a = 0; a < 3; ++a) ins.bind(2 + a, static_cast<std::int64_t>(mask.offset[static_cast<std::size_t>(a)]));
      for (int a = 0; a < 3; ++a) ins.bind(5 + a, static_cast<std::int64_t>(mask.size[static_cast<std::size_t>(a)]));
      ins.bind(8, Statement::Blob{runs});
      ins.step();
      if (!ins.ok()) return fail(ins.error());
      if (auto a = audit(who, "mask", "measurement #" + std::to_string(measurement),
                         std::to_string(mask.voxels_inside()) + " voxels in a " + std::to_string(mask.size[0]) + "x" +
                             std::to_string(mask.size[1]) + "x" + std::to_string(mask.size[2]) + " box");
          !a)
        return a.error();
      return true;
    });
  }

  Result<std::optional<LesionMask>> mask_of(RowId measurement) override {
    Statement q(db_, "SELECT offset_i, offset_j, offset_k, size_i, size_j, size_k, runs FROM masks WHERE measurement_id = ?");
    q.bind(1, measurement);
    if (!q.step()) {
      if (!q.ok()) return fail(q.error());
      return std::optional<LesionMask>();
    }
    LesionMask m;
    for (std::size_t a = 0; a < 3; ++a) {
      m.offset[a] = static_cast<std::size_t>(q.integer(static_cast<int>(a)));
      m.size[a] = static_cast<std::size_t>(q.integer(static_cast<int>(a) + 3));
    }
    auto voxels = mask_voxels(q.blob(6), m.size[0] * m.size[1] * m.size[2]);
    if (!voxels)
      return Error(ErrorCode::kUnreadable, "the mask of measurement #" + std::to_string(measurement) + " is damaged", path_);
    m.inside = std::move(*voxels);
    return std::optional<LesionMask>(std::move(m));
  }

  Result<bool> in_one_transaction(const std::function<Result<bool>()>& steps) override {
    return in_transaction<bool>([&]() { return steps(); });
  }

  Result<bool> set_review_state(const std::string& pseudonym, int date, const std::string& state, const Actor& who) override {
    return in_transaction<bool>([&]() -> Result<bool> {
      auto p = patient_id(pseudonym, false, who);
      if (!p) return p.error();
      Statement up(db_, "UPDATE time_points SET review_state = ? WHERE patient_id = ? AND date = ?");
      up.bind(1, state).bind(2, *p).bind(3, format_date(date));
      up.step();
      if (!up.ok()) return fail(up.error());
      if (sqlite3_changes(db_) == 0) return Error(ErrorCode::kNotFound, "no time point on " + format_date(date), pseudonym);
      if (auto a = audit(who, "review", pseudonym + "/" + format_date(date), state); !a) return a.error();
      return true;
    });
  }

  Result<std::vector<PendingReview>> pending_reviews(const std::string& pseudonym, int line_number) override {
    auto p = patient_id(pseudonym, false, Actor{});
    if (!p) return p.error();
    auto line = line_row(*p, line_number);
    if (!line) return line.error();
    // Only the line's own time points, as build_case spans them: from its baseline (the last time
    // point on or before its start) up to the next line's start. A lesion kept into the next line is
    // reviewed there, not reported as pending on this one.
    Statement base(db_, "SELECT COALESCE(MAX(date), '0000-01-01') FROM time_points WHERE patient_id = ? AND date <= ?");
    base.bind(1, *p).bind(2, format_date(line->start));
    const std::string from = base.step() ? base.text(0) : "0000-01-01";
    std::string until = "9999-12-31";
    if (auto next = line_row(*p, line_number + 1)) until = format_date(next->start);
    Statement q(
        db_,
        "SELECT t.date, COUNT(*) FROM time_points t JOIN measurements m ON m.time_point_id = t.id"
        " WHERE t.patient_id = ? AND t.review_state = 'pending' AND m.method = 'automatic'"
        " AND m.id = (SELECT MAX(m2.id) FROM measurements m2 WHERE m2.lesion_id = m.lesion_id AND m2.time_point_id = t.id)"
        " AND m.lesion_id IN (SELECT lesion_id FROM lesion_roles WHERE line_id = ?)"
        " AND t.date >= ? AND t.date <= ?"
        " GROUP BY t.date ORDER BY t.date");
    q.bind(1, *p).bind(2, line->id).bind(3, from).bind(4, until);
    std::vector<PendingReview> out;
    while (q.step()) out.push_back({day_of(q.text(0)), static_cast<int>(q.integer(1))});
    if (!q.ok()) return fail(q.error());
    return out;
  }

  Result<bool> import_case(const std::string& pseudonym, int line_number, const std::string& regimen, const Case& c,
                           const Actor& who, const std::function<void(size_t)>& after_row) override {
    return in_transaction<bool>([&]() -> Result<bool> {
      size_t rows = 0;
      auto tick = [&]() {
        ++rows;
        if (after_row) after_row(rows);
      };
      auto p = patient_id(pseudonym, true, who);
      if (!p) return p.error();
      auto line = insert_line(*p, pseudonym, line_number, c.treatment_start.value_or(c.baseline_date), regimen, c, who);
      if (!line) return line.error();
      tick();
      auto base_tp = time_point_id(*p, c.baseline_date, "", true, who);
      if (!base_tp) return base_tp.error();
      std::map<std::string, RowId> lesion_ids;
      auto lesion_for = [&](const LesionRecord& rec, LesionRole role) -> Result<RowId> {
        auto existing = lesion_id(*p, rec.label);
        RowId id = 0;
        if (existing) {
          id = *existing;
        } else {
          auto added = insert_lesion(*p, pseudonym, rec, who);
          if (!added) return added;
          id = *added;
        }
        auto r = write_role(*line, id, pseudonym, line_number, rec.label, role, who);
        if (!r) return r.error();
        lesion_ids[rec.label] = id;
        tick();
        return id;
      };
      for (const BaselineLesion& l : c.lesions) {
        LesionRecord rec{"", l.id, l.organ, l.nodal, l.bone, l.previously_irradiated};
        auto id = lesion_for(rec, l.target ? LesionRole::kTarget : LesionRole::kNonTarget);
        if (!id) return id.error();
        LesionMeasurement m;
        m.method = MeasurementMethod::kManual;
        m.status = l.target ? MeasurementStatus::kMeasured : MeasurementStatus::kPresent;
        m.long_axis_mm = l.long_axis_mm;
        m.short_axis_mm = l.short_axis_mm;
        auto r = insert_measurement(*p, pseudonym, *id, l.id, *base_tp, c.baseline_date, m, who);
        if (!r) return r.error();
        tick();
      }
      for (const FollowUp& f : c.followups) {
        auto tp = time_point_id(*p, f.date, "", true, who);
        if (!tp) return tp.error();
        for (const auto& [label, t] : f.targets) {
          const auto it = lesion_ids.find(label);
          if (it == lesion_ids.end()) return Error(ErrorCode::kInvalidArgument, label + " is not a baseline target", pseudonym);
          LesionMeasurement m;
          m.method = MeasurementMethod::kManual;
          m.status = observed(t.status);
          m.long_axis_mm = t.long_axis_mm;
          m.short_axis_mm = t.short_axis_mm;
          m.fragments_mm = t.fragments_mm;
          m.merged_into = t.merged_into;
          auto r = insert_measurement(*p, pseudonym, it->second, label, *tp, f.date, m, who);
          if (!r) return r.error();
          tick();
        }
        for (const auto& [label, status] : f.non_targets) {
          const auto it = lesion_ids.find(label);
          if (it == lesion_ids.end())
            return Error(ErrorCode::kInvalidArgument, label + " is not a baseline non-target", pseudonym);
          LesionMeasurement m;
          m.method = MeasurementMethod::kManual;
          m.status = observed(status);
          auto r = insert_measurement(*p, pseudonym, it->second, label, *tp, f.date, m, who);
          if (!r) return r.error();
          tick();
        }
        for (const NewLesion& n : f.new_lesions) {
          RowId id = 0;
          if (const auto it = lesion_ids.find(n.id); it != lesion_ids.end()) {
            id = it->second;
          } else {
            LesionRecord rec{"", n.id, n.organ, n.nodal, BoneLesion::kNone, false};
            auto added = lesion_for(rec, LesionRole::kNew);
            if (!added) return added.error();
            id = *added;
          }
          LesionMeasurement m;
          m.method = MeasurementMethod::kManual;
          m.status = observed(n.status);
          m.long_axis_mm = n.long_axis_mm;
          m.short_axis_mm = n.short_axis_mm;
          m.unequivocal = n.unequivocal;
          auto r = insert_measurement(*p, pseudonym, id, n.id, *tp, f.date, m, who);
          if (!r) return r.error();
          tick();
        }
      }
      if (auto a = audit(who, "import-case", pseudonym + "/line " + std::to_string(line_number), std::to_string(rows) + " rows");
          !a)
        return a.error();
      return true;
    });
  }

  Result<ProposalsRecorded> record_proposals(const std::string& pseudonym, int line_number, const FollowUpProposals& fp,
                                             const Actor& who) override {
    return in_transaction<ProposalsRecorded>([&]() -> Result<ProposalsRecorded> {
      auto p = patient_id(pseudonym, false, who);
      if (!p) return p.error();
      auto line = line_row(*p, line_number);
      if (!line) return line.error();
      if (fp.date <= line->start)
        return Error(ErrorCode::kInvalidArgument,
                     "a follow-up on " + format_date(fp.date) + " is not after line " + std::to_string(line_number) +
                         "'s start (" + format_date(line->start) + ")",
                     pseudonym);
      if (!fp.series_uid.empty() && !fp.study_uid.empty()) {
        auto s = ensure_series(pseudonym, fp.date, fp.study_uid, fp.series_uid, "CT", std::nullopt, who);
        if (!s) return s.error();
      }
      auto t = time_point_id(*p, fp.date, fp.study_uid, true, who);
      if (!t) return t.error();
      const RowId tp = *t;

      ProposalsRecorded out;
      bool wrote = false;
      // The reader's word stands: an edited or manual value at this date is not replaced.
      auto readers_value = [&](RowId lesion) -> Result<bool> {
        Statement q(db_, "SELECT method FROM measurements WHERE lesion_id = ? AND time_point_id = ? ORDER BY id DESC LIMIT 1");
        q.bind(1, lesion).bind(2, tp);
        if (q.step()) return q.text(0) != "automatic";
        if (!q.ok()) return fail(q.error());
        return false;
      };
      for (const LesionProposal& l : fp.lesions) {
        auto lesion = lesion_id(*p, l.label);
        if (!lesion)
          return Error(ErrorCode::kNotFound, "no lesion '" + l.label + "' in the store: import the line's baseline first",
                       pseudonym);
        Statement r(db_, "SELECT role FROM lesion_roles WHERE line_id = ? AND lesion_id = ?");
        r.bind(1, line->id).bind(2, *lesion);
        if (!r.step()) {
          if (!r.ok()) return fail(r.error());
          return Error(ErrorCode::kInvalidArgument, l.label + " has no role in line " + std::to_string(line_number), pseudonym);
        }
        const std::string role = r.text(0);
        auto kept = readers_value(*lesion);
        if (!kept) return kept.error();
        if (*kept) {
          out.kept_readers_values.push_back(l.label);
          continue;
        }
        LesionMeasurement m;
        m.method = MeasurementMethod::kAutomatic;
        m.series_uid = fp.series_uid;
        if (!l.found) {
          m.status = MeasurementStatus::kAbsent;
        } else {
          m.status = role == "target" ? MeasurementStatus::kMeasured : MeasurementStatus::kPresent;
          m.long_axis_mm = l.long_axis_mm;
          m.short_axis_mm = l.short_axis_mm;
          m.volume_ml = l.volume_ml;
          m.long_axis = l.long_axis;
          m.short_axis = l.short_axis;
        }
        auto ins = insert_measurement(*p, pseudonym, *lesion, l.label, tp, fp.date, m, who);
        if (!ins) return ins.error();
        if (l.found && l.mask)
          if (auto masked = record_mask(*ins, *l.mask, who); !masked) return masked.error();
        out.recorded.push_back(l.label);
        wrote = true;
      }
      for (size_t k = 0; k < fp.candidates.size(); ++k) {
        const CandidateNewLesion& c = fp.candidates[k];
        const std::string label = "NEW-" + format_date(fp.date) + "-" + std::to_string(k + 1);
        RowId id = 0;
        if (auto existing = lesion_id(*p, label)) {
          id = *existing;
        } else {
          auto added = insert_lesion(*p, pseudonym, LesionRecord{"", label, c.organ, false, BoneLesion::kNone, false}, who);
          if (!added) return added.error();
          id = *added;
        }
        if (auto r = write_role(line->id, id, pseudonym, line_number, label, LesionRole::kNew, who); !r) return r.error();
        out.candidate_labels.push_back(label);
        auto kept = readers_value(id);
        if (!kept) return kept.error();
        if (*kept) {
          out.kept_readers_values.push_back(label);
          continue;
        }
        LesionMeasurement m;
        m.method = MeasurementMethod::kAutomatic;
        m.series_uid = fp.series_uid;
        m.status = MeasurementStatus::kPresent;
        m.unequivocal = false;
        m.long_axis_mm = c.long_axis_mm;
        m.location = c.location;
        auto ins = insert_measurement(*p, pseudonym, id, label, tp, fp.date, m, who);
        if (!ins) return ins.error();
        wrote = true;
      }
      if (wrote) {
        Statement up(db_, "UPDATE time_points SET review_state = 'pending' WHERE id = ?");
        up.bind(1, tp);
        up.step();
        if (!up.ok()) return fail(up.error());
        if (auto a = audit(who, "review", pseudonym + "/" + format_date(fp.date), "pending"); !a) return a.error();
      }
      return out;
    });
  }

  Result<std::vector<int>> treatment_lines(const std::string& pseudonym) override {
    auto p = patient_id(pseudonym, false, Actor{});
    if (!p) return p.error();
    Statement q(db_, "SELECT line_number FROM treatment_lines WHERE patient_id = ? ORDER BY line_number");
    q.bind(1, *p);
    std::vector<int> out;
    while (q.step()) out.push_back(static_cast<int>(q.integer(0)));
    if (!q.ok()) return fail(q.error());
    return out;
  }

  Result<Case> build_case(const std::string& pseudonym, int line_number) override {
    auto p = patient_id(pseudonym, false, Actor{});
    if (!p) return p.error();
    auto line = line_row(*p, line_number);
    if (!line) return line.error();
    Case c;
    c.criteria = line->criteria;
    c.treatment_start = line->start;
    c.confirmation_required = line->confirmation_required;
    c.confirmation_interval_days = line->confirmation_interval;
    c.sd_min_interval_days = line->sd_min_interval;
    c.modality = line->modality;
    // Baseline: the last time point on or before the start; follow-ups until the next line starts.
    Statement tps(db_, "SELECT id, date FROM time_points WHERE patient_id = ? ORDER BY date");
    tps.bind(1, *p);
    std::vector<std::pair<RowId, int>> points;
    while (tps.step()) points.emplace_back(tps.integer(0), day_of(tps.text(1)));
    if (!tps.ok()) return fail(tps.error());
    std::optional<int> next_start;
    if (auto next = line_row(*p, line_number + 1)) next_start = next->start;
    std::optional<size_t> base;
    for (size_t i = 0; i < points.size(); ++i)
      if (points[i].second <= line->start) base = i;
    if (!base)
      return Error(ErrorCode::kNotFound,
                   "line " + std::to_string(line_number) + " starts on " + format_date(line->start) +
                       " but no time point is on or before it (the baseline)",
                   pseudonym);
    c.baseline_date = points[*base].second;

    // The line's lesions and their roles.
    struct Lesion {
      RowId id;
      std::string label, organ, role;
      bool nodal;
      BoneLesion bone;
      bool irradiated;
    };
    Statement ls(db_,
                 "SELECT l.id, l.label, l.organ, l.nodal, l.bone, l.previously_irradiated, r.role FROM lesion_roles r"
                 " JOIN lesions l ON l.id = r.lesion_id WHERE r.line_id = ? ORDER BY l.id");
    ls.bind(1, line->id);
    std::vector<Lesion> lesions;
    while (ls.step())
      lesions.push_back(
          {ls.integer(0), ls.text(1), ls.text(2), ls.text(6), ls.integer(3) != 0, bone_of(ls.text(4)), ls.integer(5) != 0});
    if (!ls.ok()) return fail(ls.error());

    auto in_force = [&](RowId lesion, RowId tp) -> Result<std::optional<LesionMeasurement>> {
      Statement q(db_,
                  "SELECT m.status, m.long_axis_mm, m.short_axis_mm, m.fragments_json, COALESCE(l2.label, ''),"
                  " m.unequivocal FROM measurements m LEFT JOIN lesions l2 ON l2.id = m.merged_into_lesion_id"
                  " WHERE m.lesion_id = ? AND m.time_point_id = ? ORDER BY m.id DESC LIMIT 1");
      q.bind(1, lesion).bind(2, tp);
      if (!q.step()) {
        if (!q.ok()) return fail(q.error());
        return std::optional<LesionMeasurement>();
      }
      LesionMeasurement m;
      m.status = status_of(q.text(0));
      m.long_axis_mm = q.optional_real(1);
      m.short_axis_mm = q.optional_real(2);
      m.fragments_mm = numbers_of(q.text(3));
      m.merged_into = q.text(4);
      m.unequivocal = q.integer(5) != 0;
      return std::optional<LesionMeasurement>(m);
    };

    for (const Lesion& l : lesions) {
      if (l.role == "new") continue;
      BaselineLesion b;
      b.id = l.label;
      b.organ = l.organ;
      b.target = l.role == "target";
      b.nodal = l.nodal;
      b.bone = l.bone;
      b.previously_irradiated = l.irradiated;
      auto m = in_force(l.id, points[*base].first);
      if (!m) return m.error();
      if (*m) {
        b.long_axis_mm = (*m)->long_axis_mm;
        b.short_axis_mm = (*m)->short_axis_mm;
      }
      c.lesions.push_back(b);
    }
    // The baseline slice thickness: as recorded for the line, else the thickest CT at baseline.
    if (line->slice_thickness) {
      c.slice_thickness_mm = *line->slice_thickness;
    } else {
      Statement st(db_,
                   "SELECT MAX(s.slice_thickness_mm) FROM series s JOIN time_points t ON t.study_id = s.study_id"
                   " WHERE t.id = ? AND s.modality = 'CT'");
      st.bind(1, points[*base].first);
      if (st.step() && !st.null(0)) c.slice_thickness_mm = st.real(0);
    }
    for (size_t i = *base + 1; i < points.size(); ++i) {
      if (next_start && points[i].second > *next_start) break;
      FollowUp f;
      f.date = points[i].second;
      for (const Lesion& l : lesions) {
        auto m = in_force(l.id, points[i].first);
        if (!m) return m.error();
        if (!*m) continue;
        const LesionMeasurement& v = **m;
        if (l.role == "target") {
          TargetMeasurement t;
          t.status = target_status_of(v.status);
          t.long_axis_mm = v.long_axis_mm;
          t.short_axis_mm = v.short_axis_mm;
          t.fragments_mm = v.fragments_mm;
          t.merged_into = v.merged_into;
          f.targets[l.label] = t;
        } else if (l.role == "non-target") {
          f.non_targets[l.label] = lesion_status_of(v.status);
        } else {
          NewLesion n;
          n.id = l.label;
          n.organ = l.organ;
          n.nodal = l.nodal;
          n.unequivocal = v.unequivocal;
          n.long_axis_mm = v.long_axis_mm;
          n.short_axis_mm = v.short_axis_mm;
          n.status = lesion_status_of(v.status);
          f.new_lesions.push_back(n);
        }
      }
      c.followups.push_back(f);
    }
    return c;
  }

  Result<PatientRecord> patient_record(const std::string& pseudonym) override {
    auto p = patient_id(pseudonym, false, Actor{});
    if (!p) return p.error();
    PatientRecord r;
    r.pseudonym = pseudonym;
    Statement lines(db_,
                    "SELECT line_number, start_date, regimen, criteria FROM treatment_lines WHERE patient_id = ?"
                    " ORDER BY line_number");
    lines.bind(1, *p);
    while (lines.step())
      r.lines.push_back({static_cast<int>(lines.integer(0)), day_of(lines.text(1)), lines.text(2),
                         lines.text(3) == "iRECIST" ? Criteria::kIrecist : Criteria::kRecist11});
    if (!lines.ok()) return fail(lines.error());

    Statement tps(db_,
                  "SELECT t.date, COALESCE(s.study_uid, ''), t.review_state, t.study_id FROM time_points t"
                  " LEFT JOIN studies s ON s.id = t.study_id WHERE t.patient_id = ? ORDER BY t.date");
    tps.bind(1, *p);
    std::vector<std::optional<RowId>> studies;
    while (tps.step()) {
      r.time_points.push_back({day_of(tps.text(0)), tps.text(1), tps.text(2), {}});
      studies.push_back(tps.null(3) ? std::optional<RowId>() : tps.integer(3));
    }
    if (!tps.ok()) return fail(tps.error());
    for (std::size_t i = 0; i < studies.size(); ++i) {
      if (!studies[i]) continue;
      Statement ser(db_, "SELECT series_uid, modality, slice_thickness_mm FROM series WHERE study_id = ? ORDER BY id");
      ser.bind(1, *studies[i]);
      while (ser.step()) r.time_points[i].series.push_back({ser.text(0), ser.text(1), ser.optional_real(2)});
      if (!ser.ok()) return fail(ser.error());
    }

    Statement ls(db_,
                 "SELECT tracking_uid, label, organ, nodal, bone, previously_irradiated FROM lesions"
                 " WHERE patient_id = ? ORDER BY id");
    ls.bind(1, *p);
    while (ls.step())
      r.lesions.push_back({ls.text(0), ls.text(1), ls.text(2), ls.integer(3) != 0, bone_of(ls.text(4)), ls.integer(5) != 0});
    if (!ls.ok()) return fail(ls.error());

    Statement roles(db_,
                    "SELECT tl.line_number, l.label, r.role FROM lesion_roles r JOIN treatment_lines tl ON tl.id = r.line_id"
                    " JOIN lesions l ON l.id = r.lesion_id WHERE tl.patient_id = ?");
    roles.bind(1, *p);
    while (roles.step())
      if (auto role = lesion_role_from(roles.text(2))) r.roles[static_cast<int>(roles.integer(0))][roles.text(1)] = *role;
    if (!roles.ok()) return fail(roles.error());
    return r;
  }

  Result<std::vector<AuditEntry>> audit_log() override {
    Statement q(db_, "SELECT id, at, actor, action, subject, details FROM audit_log ORDER BY id");
    std::vector<AuditEntry> out;
    while (q.step()) out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5)});
    if (!q.ok()) return fail(q.error());
    return out;
  }

 private:
  struct LineRow {
    RowId id = 0;
    int start = 0;
    Criteria criteria = Criteria::kRecist11;
    bool confirmation_required = false;
    int confirmation_interval = 28, sd_min_interval = 42;
    Modality modality = Modality::kCt;
    std::optional<double> slice_thickness;
  };

  Error fail(const std::string& what) const { return Error(ErrorCode::kIo, "study store: " + what, path_); }

  Result<bool> exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      const std::string m = msg ? msg : sqlite3_errmsg(db_);
      sqlite3_free(msg);
      return fail(m);
    }
    return true;
  }
  Result<bool> exec(const std::string& sql) { return exec(sql.c_str()); }

  static constexpr int kBusyTimeoutMs = 30000;
  static constexpr long long kApplicationId = 0x4F514E54;  // "OQNT", in the file's header

  // The schema version, after making sure the file is an OncoQuant store (or, when `may_create`,
  // an empty database about to become one). A foreign SQLite file is refused, never migrated.
  Result<int> current_version(bool may_create) {
    Statement app(db_, "PRAGMA application_id");
    const long long id = app.step() ? app.integer(0) : 0;
    if (!app.ok()) return fail(app.error());
    Statement tables(db_, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    std::string names;
    bool ours = false;
    while (tables.step()) {
      const std::string name = tables.text(0);
      ours = ours || name == "schema_version";
      names += (names.empty() ? "" : ", ") + name;
    }
    if (!tables.ok()) return fail(tables.error());
    if ((id != 0 && id != kApplicationId) || (!names.empty() && !ours))
      return Error(ErrorCode::kUnsupported,
                   "is an SQLite database but not an OncoQuant study store" + (names.empty() ? "" : " (it holds " + names + ")") +
                       "; it is left as it is",
                   path_);
    if (names.empty()) {
      if (!may_create) return Error(ErrorCode::kNotFound, "is an empty database, not a study store", path_);
      return 0;
    }
    Statement q(db_, "SELECT version FROM schema_version");
    int version = 0;
    if (q.step()) version = static_cast<int>(q.integer(0));
    if (!q.ok()) return fail(q.error());
    if (version > kSchemaVersion)
      return Error(ErrorCode::kUnsupported,
                   "the store has schema version " + std::to_string(version) + ", newer than this oncoquant knows (" +
                       std::to_string(kSchemaVersion) + "): use a newer oncoquant",
                   path_);
    return version;
  }

  // Runs migration `version` -> `version` + 1 inside the caller's transaction.
  Result<bool> migrate_from(int version) {
    if (version == 0) {
      if (auto r = exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str()); !r) return r;
      if (auto r = exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL); DELETE FROM schema_version;"
                        " INSERT INTO schema_version VALUES (0);");
          !r)
        return r;
    }
    auto r = exec(kMigrations[version]);
    if (r) r = exec(("UPDATE schema_version SET version = " + std::to_string(version + 1)).c_str());
    if (!r)
      return Error(r.error().code(),
                   "migration to schema version " + std::to_string(version + 1) + " failed: " + r.error().message(), path_);
    return true;
  }

  // Runs `body` in one transaction: committed when it succeeds, rolled back otherwise.
  template <typename T, typename F>
  Result<T> in_transaction(F body) {
    if (depth_ == 0) {
      if (auto r = exec("BEGIN IMMEDIATE"); !r) return r.error();
    }
    ++depth_;
    Result<T> out = body();
    --depth_;
    if (depth_ == 0) {
      if (out.ok()) {
        if (auto r = exec("COMMIT"); !r) {
          exec("ROLLBACK");
          return r.error();
        }
      } else {
        exec("ROLLBACK");
      }
    }
    return out;
  }

  Result<bool> audit(const Actor& who, const std::string& action, const std::string& subject, const std::string& details) {
    Statement ins(db_, "INSERT INTO audit_log(at, actor, action, subject, details) VALUES (?,?,?,?,?)");
    ins.bind(1, now_utc()).bind(2, who.name.empty() ? "unknown" : who.name).bind(3, action).bind(4, subject).bind(5, details);
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    return true;
  }

  Result<RowId> patient_id(const std::string& pseudonym, bool create, const Actor& who) {
    if (pseudonym.empty()) return Error(ErrorCode::kInvalidArgument, "a patient needs a pseudonymous id");
    Statement find(db_, "SELECT id FROM patients WHERE pseudonym = ?");
    find.bind(1, pseudonym);
    if (find.step()) return find.integer(0);
    if (!find.ok()) return fail(find.error());
    if (!create) return Error(ErrorCode::kNotFound, "no such patient in the store", pseudonym);
    Statement ins(db_, "INSERT INTO patients(pseudonym, created_at) VALUES (?, ?)");
    ins.bind(1, pseudonym).bind(2, now_utc());
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    const RowId id = sqlite3_last_insert_rowid(db_);
    if (auto a = audit(who, "add-patient", pseudonym, ""); !a) return a.error();
    return id;
  }

  Result<RowId> time_point_id(RowId patient, int date, const std::string& study_uid, bool create, const Actor& who) {
    const std::string d = format_date(date);
    RowId study = 0;
    if (!study_uid.empty()) {
      Statement s(db_, "SELECT id FROM studies WHERE study_uid = ?");
      s.bind(1, study_uid);
      if (s.step()) {
        study = s.integer(0);
      } else {
        Statement ins(db_, "INSERT INTO studies(patient_id, study_uid, study_date) VALUES (?,?,?)");
        ins.bind(1, patient).bind(2, study_uid).bind(3, d);
        ins.step();
        if (!ins.ok()) return fail(ins.error());
        study = sqlite3_last_insert_rowid(db_);
      }
    }
    Statement find(db_, "SELECT id, study_id FROM time_points WHERE patient_id = ? AND date = ?");
    find.bind(1, patient).bind(2, d);
    if (find.step()) {
      const RowId id = find.integer(0);
      if (study != 0 && find.null(1)) {
        Statement up(db_, "UPDATE time_points SET study_id = ? WHERE id = ?");
        up.bind(1, study).bind(2, id);
        up.step();
        if (!up.ok()) return fail(up.error());
      }
      return id;
    }
    if (!find.ok()) return fail(find.error());
    if (!create) return Error(ErrorCode::kNotFound, "no time point on " + d);
    Statement ins(db_, "INSERT INTO time_points(patient_id, date, study_id) VALUES (?,?,?)");
    ins.bind(1, patient).bind(2, d).bind(3, study ? std::optional<std::int64_t>(study) : std::nullopt);
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    const RowId id = sqlite3_last_insert_rowid(db_);
    if (auto a = audit(who, "add-time-point", std::to_string(patient) + "/" + d, study_uid); !a) return a.error();
    return id;
  }

  Result<LineRow> line_row(RowId patient, int line_number) {
    Statement q(db_,
                "SELECT id, start_date, criteria, confirmation_required, confirmation_interval_days,"
                " sd_min_interval_days, baseline_modality, baseline_slice_thickness_mm FROM treatment_lines"
                " WHERE patient_id = ? AND line_number = ?");
    q.bind(1, patient).bind(2, line_number);
    if (!q.step()) {
      if (!q.ok()) return fail(q.error());
      return Error(ErrorCode::kNotFound, "no treatment line " + std::to_string(line_number) + " in the store");
    }
    LineRow r;
    r.id = q.integer(0);
    r.start = day_of(q.text(1));
    r.criteria = q.text(2) == "iRECIST" ? Criteria::kIrecist : Criteria::kRecist11;
    r.confirmation_required = q.integer(3) != 0;
    r.confirmation_interval = static_cast<int>(q.integer(4));
    r.sd_min_interval = static_cast<int>(q.integer(5));
    const std::string mod = q.text(6);
    r.modality = mod == "MR"         ? Modality::kMr
                 : mod == "XR"       ? Modality::kXr
                 : mod == "PT"       ? Modality::kPt
                 : mod == "clinical" ? Modality::kClinical
                                     : Modality::kCt;
    r.slice_thickness = q.optional_real(7);
    return r;
  }

  Result<RowId> insert_line(RowId patient, const std::string& pseudonym, int line_number, int start, const std::string& regimen,
                            const Case& c, const Actor& who) {
    if (line_row(patient, line_number))
      return Error(ErrorCode::kInvalidArgument, "treatment line " + std::to_string(line_number) + " is already in the store",
                   pseudonym);
    static const char* kModality[] = {"CT", "MR", "XR", "PT", "clinical"};
    Statement ins(db_,
                  "INSERT INTO treatment_lines(patient_id, line_number, start_date, regimen, criteria,"
                  " confirmation_required, confirmation_interval_days, sd_min_interval_days, baseline_modality,"
                  " baseline_slice_thickness_mm) VALUES (?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, patient)
        .bind(2, line_number)
        .bind(3, format_date(start))
        .bind(4, regimen)
        .bind(5, c.criteria == Criteria::kIrecist ? "iRECIST" : "RECIST1.1")
        .bind(6, c.confirmation_required)
        .bind(7, c.confirmation_interval_days)
        .bind(8, c.sd_min_interval_days)
        .bind(9, kModality[static_cast<int>(c.modality)])
        .bind(10, c.slice_thickness_mm);
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    const RowId id = sqlite3_last_insert_rowid(db_);
    if (auto a = audit(who, "add-treatment-line", pseudonym + "/line " + std::to_string(line_number),
                       format_date(start) + " " + regimen);
        !a)
      return a.error();
    return id;
  }

  Result<RowId> lesion_id(RowId patient, const std::string& label) {
    Statement q(db_, "SELECT id FROM lesions WHERE patient_id = ? AND label = ?");
    q.bind(1, patient).bind(2, label);
    if (q.step()) return q.integer(0);
    if (!q.ok()) return fail(q.error());
    return Error(ErrorCode::kNotFound, "no lesion '" + label + "' for this patient");
  }

  Result<RowId> insert_lesion(RowId patient, const std::string& pseudonym, const LesionRecord& l, const Actor& who) {
    if (l.label.empty()) return Error(ErrorCode::kInvalidArgument, "a lesion needs a label (T1, N1, ...)", pseudonym);
    const std::string uid = l.tracking_uid.empty() ? new_tracking_uid() : l.tracking_uid;
    Statement ins(db_,
                  "INSERT INTO lesions(patient_id, tracking_uid, label, organ, nodal, bone, previously_irradiated)"
                  " VALUES (?,?,?,?,?,?,?)");
    ins.bind(1, patient)
        .bind(2, uid)
        .bind(3, l.label)
        .bind(4, l.organ)
        .bind(5, l.nodal)
        .bind(6, bone_name(l.bone))
        .bind(7, l.previously_irradiated);
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    const RowId id = sqlite3_last_insert_rowid(db_);
    if (auto a = audit(who, "add-lesion", pseudonym + "/" + l.label, uid + " " + l.organ); !a) return a.error();
    return id;
  }

  Result<bool> write_role(RowId line, RowId lesion, const std::string& pseudonym, int line_number, const std::string& label,
                          LesionRole role, const Actor& who) {
    Statement ins(db_,
                  "INSERT INTO lesion_roles(line_id, lesion_id, role) VALUES (?,?,?)"
                  " ON CONFLICT(line_id, lesion_id) DO UPDATE SET role = excluded.role");
    ins.bind(1, line).bind(2, lesion).bind(3, to_string(role));
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    if (auto a = audit(who, "set-role", pseudonym + "/line " + std::to_string(line_number) + "/" + label, to_string(role)); !a)
      return a.error();
    return true;
  }

  Result<bool> insert_caliper(RowId measurement, const char* axis, const Caliper& c) {
    Statement ins(db_,
                  "INSERT INTO calipers(measurement_id, axis, a_x, a_y, a_z, b_x, b_y, b_z, sop_instance_uid, frame)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, measurement).bind(2, axis).bind(3, c.a[0]).bind(4, c.a[1]).bind(5, c.a[2]);
    ins.bind(6, c.b[0]).bind(7, c.b[1]).bind(8, c.b[2]).bind(9, c.sop_instance_uid).bind(10, c.frame);
    ins.step();
    if (!ins.ok()) return fail(ins.error());
    return true;
  }

  Result<bool> read_calipers(RowId measurement, LesionMeasurement& m) {
    Statement q(db_, "SELECT axis, a_x, a_y, a_z, b_x, b_y, b_z, sop_instance_uid, frame FROM calipers WHERE measurement_id = ?");
    q.bind(1, measurement);
    while (q.step()) {
      const Caliper c{
          {q.real(1), q.real(2), q.real(3)}, {q.real(4), q.real(5), q.real(6)}, q.text(7), static_cast<int>(q.integer(8))};
      (q.text(0) == "long" ? m.long_axis : m.short_axis) = c;
    }
    if (!q.ok()) return fail(q.error());
    return true;
  }

  Result<RowId> insert_measurement(RowId patient, const std::string& pseudonym, RowId lesion, const std::string& label, RowId tp,
                                   int date, const LesionMeasurement& m, const Actor& who) {
    std::optional<std::int64_t> merged;
    if (!m.merged_into.empty()) {
      auto into = lesion_id(patient, m.merged_into);
      if (!into) return into;
      merged = *into;
    }
    std::optional<std::int64_t> previous;
    {
      Statement q(db_, "SELECT id FROM measurements WHERE lesion_id = ? AND time_point_id = ? ORDER BY id DESC LIMIT 1");
      q.bind(1, lesion).bind(2, tp);
      if (q.step()) previous = q.integer(0);
      if (!q.ok()) return fail(q.error());
    }
    auto coordinate = [&](int axis) { return m.location ? std::optional<double>((*m.location)[axis]) : std::nullopt; };
    Statement ins(db_,
                  "INSERT INTO measurements(lesion_id, time_point_id, series_uid, status, long_axis_mm, short_axis_mm,"
                  " volume_ml, fragments_json, merged_into_lesion_id, unequivocal, method, author, recorded_at, supersedes,"
                  " location_x, location_y, location_z, mean_hu, suv_max, suv_peak, suv_mean, mtv_ml, tlg, sul_peak, mask)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, lesion)
        .bind(2, tp)
        .bind(3, m.series_uid)
        .bind(4, to_string(m.status))
        .bind(5, m.long_axis_mm)
        .bind(6, m.short_axis_mm)
        .bind(7, m.volume_ml)
        .bind(8, numbers_json(m.fragments_mm))
        .bind(9, merged)
        .bind(10, m.unequivocal)
        .bind(11, to_string(m.method))
        .bind(12, who.name.empty() ? "unknown" : who.name)
        .bind(13, now_utc())
        .bind(14, previous)
        .bind(15, coordinate(0))
        .bind(16, coordinate(1))
        .bind(17, coordinate(2))
        .bind(18, m.mean_hu)
        .bind(19, m.suv.suv_max)
        .bind(20, m.suv.suv_peak)
        .bind(21, m.suv.suv_mean)
        .bind(22, m.suv.mtv_ml)
        .bind(23, m.suv.tlg)
        .bind(24, m.suv.sul_peak)
        .bind(25, m.mask);
    ins.step();
    if (!ins.ok()) return Error(ErrorCode::kInvalidArgument, "measurement of " + label + " refused: " + ins.error(), pseudonym);
    const RowId id = sqlite3_last_insert_rowid(db_);
    for (const auto& [axis, caliper] : {std::pair{"long", &m.long_axis}, std::pair{"short", &m.short_axis}})
      if (*caliper)
        if (auto r = insert_caliper(id, axis, **caliper); !r) return r.error();
    std::string details = to_string(m.status);
    auto mm = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g mm", v);
      return std::string(buf);
    };
    if (m.long_axis_mm) details += " LA " + mm(*m.long_axis_mm);
    if (m.short_axis_mm) details += " SA " + mm(*m.short_axis_mm);
    if (previous) details += " (supersedes #" + std::to_string(*previous) + ")";
    if (auto a =
            audit(who, std::string("measure-") + to_string(m.method), pseudonym + "/" + label + "/" + format_date(date), details);
        !a)
      return a.error();
    return id;
  }

  sqlite3* db_;
  std::string path_;
  int version_ = 0;
  int depth_ = 0;
};

}  // namespace

namespace {

// A WAL store is read through its shared-memory file, which a reader must be able to create. On a
// read-only share (the file or its folder not writable) with no write-ahead log left to apply, no
// one can be changing the store, so it is opened as immutable: read without locks or that file.
bool on_read_only_share(const std::string& path) {
  const std::filesystem::path p(path);
  const std::filesystem::path folder = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  if (::access(path.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0) return false;
  std::error_code ec;
  const auto wal = std::filesystem::file_size(path + "-wal", ec);
  return ec || wal == 0;
}

std::string immutable_uri(const std::string& path) {
  std::string uri = "file:";
  const std::string abs = std::filesystem::absolute(path).string();
  for (const unsigned char c : abs) {
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c > 0x7e) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      uri += hex;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Result<std::unique_ptr<StudyStore>> open_sqlite_store(const std::string& path, StoreAccess access) {
  const bool read_only = access == StoreAccess::kReadOnly;
  std::error_code ec;
  if (read_only && !std::filesystem::exists(path, ec)) return Error(ErrorCode::kNotFound, "no such study store", path);
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    return Error(ErrorCode::kInvalidArgument, "is not a file; a study store is one SQLite file", path);
  sqlite3* db = nullptr;
  // Reading a store we may write to: opened read-write but never created, and query-only, so that
  // closing it tidies the write-ahead log as a writer would (a read-only connection leaves an
  // empty -wal and a -shm beside the store). On a read-only share: immutable (above).
  int flags = (read_only ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX;
  std::string name = path;
  if (read_only && on_read_only_share(path)) {
    name = immutable_uri(path);
    flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX;
  }
  if (sqlite3_open_v2(name.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error(ErrorCode::kIo, "cannot open the study store: " + msg, path);
  }
  auto store = std::make_unique<SqliteStore>(db, path);
  // A file that is not an SQLite database fails here, on the first read.
  if (read_only && sqlite3_exec(db, "PRAGMA query_only = ON", nullptr, nullptr, nullptr) != SQLITE_OK)
    return Error(ErrorCode::kIo, std::string("cannot open the study store read-only: ") + sqlite3_errmsg(db), path);
  if (auto r = read_only ? store->check_readable() : store->migrate(); !r) return r.error();
  return std::unique_ptr<StudyStore>(std::move(store));
}

}  // namespace oq::recist
