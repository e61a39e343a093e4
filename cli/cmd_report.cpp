// oncoquant report: a patient's results from the study store, in the forms they leave OncoQuant in
// (issue 21): a DICOM SR TID 1500 Measurement Report per time point (editable in OHIF), JSON of
// everything measured and assessed, and CSV rows per lesion per time point.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>

#include "args.h"
#include "commands.h"
#include "image_archive.h"
#include "oq/dicom/source_images.h"
#include "oq/html_report/report_document.h"
#include "oq/lesion/key_image.h"
#include "oq/output.h"
#include "oq/progress.h"
#include "oq/recist/report.h"
#include "oq/recist/store.h"
#include "oq/seg/segmentation.h"
#include "oq/serialize.h"
#include "oq/sr/tid1500.h"
#include "report_ihc.h"

#ifndef OQ_VERSION
#define OQ_VERSION "unknown"
#endif

namespace oq::cli {
namespace {

const char* kReportUsage =
    "usage: oncoquant report --db STORE --patient ID --out DIR [--line N] [--images DIR] [--ihc ER.json,PR.json,HER2.json]\n"
    "                        [--author NAME] [--json] [--quiet]\n"
    "  Writes the patient's results from the study store into DIR (created if missing):\n"
    "    ID_lineN_YYYY-MM-DD_seg.dcm a DICOM SEG per time point: one segment per lesion whose mask the store holds\n"
    "    ID_lineN_YYYY-MM-DD_sr.dcm  a DICOM SR TID 1500 Measurement Report per time point of each line: every\n"
    "                                lesion with its calipers on the images, volume, HU/SUV, status and method,\n"
    "                                and the time point's responses (OHIF opens the calipers as Bidirectional\n"
    "                                measurements a reader can edit; `store import-sr` reads the edits back)\n"
    "    ID_report.json              everything measured and assessed, per line and time point\n"
    "    ID_measurements.csv         one row per lesion per time point\n"
    "    ID_report.pdf, ID_report.html  the report for people: treatment lines with best response and PFS,\n"
    "                                each time point's sums and responses, a spider plot of the targets, and\n"
    "                                per time point the lesions with key images (outline and calipers)\n"
    "  --images DIR: the folder (or DICOMDIR) holding the series that were measured; the SRs refer to their\n"
    "  images and join their studies. Without it only the JSON and CSV are written. --line N: that line only.\n"
    "  --ihc FILES: `oncoquant ihc --json` results of the biopsy, comma-separated: the report for people shows\n"
    "  their scores, the phenotype group (from ER, PR and HER2 when all are evaluable) and each overlay\n"
    "  NAME_overlay.png found beside NAME.json.\n"
    "  --author NAME: the person observer named in the SRs. Everything is written together or nothing is.\n";

// The images a time point's SR refers to: every series its lesions were measured on, else (values
// typed in without images) the time point's own series.
Result<std::vector<dicom::SourceImage>> images_of(const TimePointReport& tp, ImageArchive& archive) {
  std::vector<std::string> series;
  for (const ReportedLesion& l : tp.lesions)
    if (!l.value.series_uid.empty() && std::find(series.begin(), series.end(), l.value.series_uid) == series.end())
      series.push_back(l.value.series_uid);
  if (series.empty())
    for (const ReportedSeries& s : tp.series) series.push_back(s.uid);
  if (series.empty())
    return Error(ErrorCode::kNotFound, "the store knows no imaging study for this time point", tp.patient_id + " " + tp.date);
  std::vector<dicom::SourceImage> out;
  for (const std::string& uid : series) {
    auto frames = archive.frames(uid);
    if (!frames) return frames.error();
    out.insert(out.end(), (*frames)->begin(), (*frames)->end());
  }
  return out;
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return Error(ErrorCode::kIo, "cannot write", path);
  return ok_status();
}

struct Written {
  std::vector<std::string> files;
  std::vector<std::string> notes;  // what could not be written, and why
};

std::string output_name(const std::string& dir, const TimePointReport& tp, const std::string& what) {
  return dir + "/" + tp.patient_id + "_line" + std::to_string(tp.line) + "_" + tp.date + "_" + what + ".dcm";
}

// One SEG per series the time point's masks lie on; what each lesion's segment is, for the SR.
Result<sr::SegmentReferences> add_segs(const TimePointReport& tp, const std::string& dir, ImageArchive& archive,
                                       const std::string& version, OutputSet& outputs, Written& written) {
  std::vector<std::string> series;
  for (const ReportedLesion& l : tp.lesions)
    if (l.mask && std::find(series.begin(), series.end(), l.value.series_uid) == series.end())
      series.push_back(l.value.series_uid);
  sr::SegmentReferences refs;
  for (std::size_t i = 0; i < series.size(); ++i) {
    auto grid = archive.grid(series[i]);
    if (!grid) return grid.error();
    auto frames = archive.frames(series[i]);
    if (!frames) return frames.error();
    const std::string name = output_name(dir, tp, i == 0 ? "seg" : "seg" + std::to_string(i + 1));
    auto temp = outputs.add(name);
    if (!temp) return temp.error();
    auto seg = seg::write_segmentation(tp, series[i], *grid, **frames, version, *temp);
    if (!seg)
      return Error(seg.error().code(), "the SEG of " + tp.date + " cannot be written: " + seg.error().message(),
                   seg.error().subject() == *temp ? name : seg.error().subject());
    for (const auto& [label, number] : seg->segment_of) refs[label] = {seg->sop_instance_uid, seg->series_uid, number};
    written.files.push_back(name);
  }
  return refs;
}

// Per time point that has lesions: the SEG of its masks, then the SR referring to it.
Status add_dicom(const PatientReport& report, const std::string& dir, ImageArchive* archive, const sr::WriterInfo& who,
                 OutputSet& outputs, Written& written) {
  for (const TimePointReport& tp : report.time_points) {
    if (tp.lesions.empty()) continue;
    const std::string when = tp.date + " (line " + std::to_string(tp.line) + ")";
    if (!archive) {
      written.notes.push_back(when + ": no SR or SEG without --images");
      continue;
    }
    auto images = images_of(tp, *archive);
    if (!images) {
      written.notes.push_back(when + ": no SR or SEG: " + images.error().describe());
      continue;
    }
    auto segments = add_segs(tp, dir, *archive, who.software_version, outputs, written);
    if (!segments) return segments.error();
    const std::string name = output_name(dir, tp, "sr");
    auto temp = outputs.add(name);
    if (!temp) return temp.error();
    if (auto uid = sr::write_measurement_report(tp, *images, *segments, who, *temp); !uid)
      return Error(uid.error().code(), "the SR of " + tp.date + " cannot be written: " + uid.error().message(),
                   uid.error().subject() == *temp ? name : uid.error().subject());
    written.files.push_back(name);
  }
  return ok_status();
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Each CT-measured lesion's key image (its long axis slice with outline and calipers), for the
// report people read. A lesion whose images cannot be loaded is shown without one, and said so.
void add_key_images(PatientReport& report, ImageArchive& archive, Written& written) {
  for (const TimePointReport& tp : report.time_points)
    for (const ReportedLesion& l : tp.lesions) {
      if (!l.value.long_axis || l.value.series_uid.empty()) continue;
      auto volume = archive.volume(l.value.series_uid);
      if (!volume || (*volume)->units() != "HU") continue;
      auto image = lesion::key_image(**volume, l.value, l.mask);
      if (!image) {
        written.notes.push_back(tp.date + " " + l.label + ": no key image: " + image.error().message());
        continue;
      }
      image->lesion = l.label;
      image->date = tp.date;
      report.key_images.push_back(std::move(*image));
    }
}

Status add_people_report(const PatientReport& report, const std::string& dir, OutputSet& outputs, Written& written) {
  const html_report::ReportContext context{OQ_VERSION, now_iso()};
  const std::string pdf = dir + "/" + report.patient_id + "_report.pdf", html = dir + "/" + report.patient_id + "_report.html";
  auto pdf_temp = outputs.add(pdf);
  if (!pdf_temp) return pdf_temp.error();
  if (auto s = html_report::write_pdf(report, context, *pdf_temp); !s) return Error(s.error().code(), s.error().message(), pdf);
  auto html_temp = outputs.add(html);
  if (!html_temp) return html_temp.error();
  if (auto s = html_report::write_html(report, context, *html_temp); !s)
    return Error(s.error().code(), s.error().message(), html);
  written.files.push_back(pdf);
  written.files.push_back(html);
  return ok_status();
}

Status add_tables(const PatientReport& report, const std::string& dir, OutputSet& outputs, Written& written) {
  const std::pair<std::string, std::string> tables[] = {
      {dir + "/" + report.patient_id + "_report.json", dump(to_json(report)) + "\n"},
      {dir + "/" + report.patient_id + "_measurements.csv", to_csv(report)}};
  for (const auto& [name, text] : tables) {
    auto temp = outputs.add(name);
    if (!temp) return temp.error();
    if (auto s = write_text(*temp, text); !s) return Error(ErrorCode::kIo, "cannot write", name);
    written.files.push_back(name);
  }
  return ok_status();
}

// Everything, committed together; on an error the temporary files are gone when this returns.
Status write_all(const PatientReport& report, const std::string& dir, const std::string& db, ImageArchive* archive,
                 const sr::WriterInfo& who, Written& written) {
  OutputSet outputs({db});
  if (auto s = add_dicom(report, dir, archive, who, outputs, written); !s) return s;
  if (auto s = add_tables(report, dir, outputs, written); !s) return s;
  if (auto s = add_people_report(report, dir, outputs, written); !s) return s;
  return outputs.commit();
}

// The output folder, made when missing; `made` says whether to remove it if nothing lands.
Status ensure_folder(const std::string& dir, bool& made) {
  struct stat st {};
  made = false;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error(ErrorCode::kInvalidArgument, "--out must be a folder", dir);
    return ok_status();
  }
  if (mkdir(dir.c_str(), 0777) != 0) return Error(ErrorCode::kIo, "cannot create the output folder", dir);
  made = true;
  return ok_status();
}

void print(const Written& w, const PatientReport& report, bool json) {
  if (json) {
    Json j;
    j["patient"] = report.patient_id;
    j["written"] = w.files;
    j["not_written"] = w.notes;
    std::printf("%s\n", dump(j).c_str());
    return;
  }
  std::printf("report for %s: %zu file(s)\n", report.patient_id.c_str(), w.files.size());
  for (const std::string& f : w.files) std::printf("  %s\n", f.c_str());
  for (const std::string& n : w.notes) std::printf("  not written: %s\n", n.c_str());
}

}  // namespace

int cmd_report(int argc, char** argv) {
  Args args(argc, argv, 2, {"--db", "--patient", "--out", "--line", "--images", "--author", "--ihc"},
            {"--help", "--json", "--quiet"});
  if (args.has("--help")) {
    std::fputs(kReportUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kReportUsage);
  if (!args.positional().empty()) return usage_fail("report takes no positional argument", kReportUsage);
  if (args.has("--quiet")) Progress::set_quiet(true);
  if (!args.has("--db") || !args.has("--patient") || !args.has("--out"))
    return usage_fail("report needs --db STORE, --patient ID and --out DIR", kReportUsage);
  std::optional<int> line;
  if (args.has("--line")) {
    const auto n = parse_integer(args.get("--line"), 1, 999);
    if (!n) return usage_fail("--line needs a treatment line number 1-999, not '" + args.get("--line") + "'", kReportUsage);
    line = static_cast<int>(*n);
  }
  const std::string db = args.get("--db"), dir = args.get("--out");

  auto store = recist::open_sqlite_store(db, recist::StoreAccess::kReadOnly);
  if (!store) return fail(store.error().describe());
  auto report = recist::gather_report(**store, args.get("--patient"), line);
  if (!report) return fail(db + ": " + report.error().describe());

  if (args.has("--ihc")) {
    std::vector<std::string> files;
    std::string list = args.get("--ihc") + ",";
    for (std::size_t at; (at = list.find(',')) != std::string::npos; list.erase(0, at + 1))
      if (at > 0) files.push_back(list.substr(0, at));
    auto panel = read_ihc_panel(files);
    if (!panel) return fail(panel.error().describe());
    report->ihc = std::move(*panel);
  }
  std::optional<ImageArchive> archive;
  if (args.has("--images")) archive.emplace(args.get("--images"));
  bool made = false;
  if (auto s = ensure_folder(dir, made); !s) return fail(s.error().describe());
  Written written;
  if (archive) add_key_images(*report, *archive, written);
  const sr::WriterInfo who{OQ_VERSION, args.get("--author")};
  const Status s = write_all(*report, dir, db, archive ? &*archive : nullptr, who, written);
  if (!s) {
    if (made) rmdir(dir.c_str());
    return fail(s.error().describe());
  }
  print(written, *report, args.has("--json"));
  return 0;
}

}  // namespace oq::cli
