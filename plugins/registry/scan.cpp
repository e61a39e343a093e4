#include "oq/scan.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "oq/plugin.h"
#include "oq/progress.h"

namespace fs = std::filesystem;

namespace oq {

namespace {

void collect_files(const std::string& input, std::vector<std::string>& files, Catalog& out) {
  std::error_code ec;
  const fs::file_status st = fs::status(input, ec);
  if (ec || !fs::exists(st)) {
    out.unreadable.push_back({input, "no such file or folder"});
    return;
  }
  if (fs::is_regular_file(st)) {
    files.push_back(input);
    return;
  }
  if (!fs::is_directory(st)) {
    out.unreadable.push_back({input, "not a regular file or folder"});
    return;
  }
  std::vector<std::string> found;
  // Folders linked in (a cohort assembled from several exports with symbolic links) are followed,
  // each real folder once, so a link back up the tree cannot loop and a file reached twice is read once.
  std::set<std::string> folders_seen{fs::canonical(input, ec).string()}, files_seen;
  const auto options = fs::directory_options::skip_permission_denied | fs::directory_options::follow_directory_symlink;
  for (fs::recursive_directory_iterator it(input, options, ec), end; it != end; it.increment(ec)) {
    if (ec) {
      out.unreadable.push_back({it->path().string(), "cannot read folder: " + ec.message()});
      ec.clear();
      continue;
    }
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {  // hidden files and our own partial outputs
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec)) {
      if (!folders_seen.insert(fs::canonical(it->path(), ec).string()).second) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (files_seen.insert(fs::canonical(it->path(), ec).string()).second) found.push_back(it->path().string());
  }
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
}

FileProbe probe(const std::string& path) {
  FileProbe p;
  p.path = path;
  std::error_code ec;
  p.size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  p.head.resize(4096);
  in.read(p.head.data(), static_cast<std::streamsize>(p.head.size()));
  p.head.resize(static_cast<std::size_t>(in.gcount()));
  return p;
}

}  // namespace

Catalog scan_inputs(const std::vector<std::string>& paths) {
  Catalog out;
  std::vector<std::string> files;
  for (const auto& p : paths) collect_files(p, files, out);

  std::vector<const PluginDescriptor*> loaders;
  for (const auto* p : all_plugins())
    if (p->kind == PluginKind::kLoader && p->loader) loaders.push_back(p);

  std::map<const PluginDescriptor*, std::vector<std::string>> claimed;
  Progress progress("scanning", files.size(), "files");
  for (const auto& f : files) {
    const FileProbe pr = probe(f);
    if (pr.size == 0) {
      out.unreadable.push_back({f, "empty file"});
      progress.advance();
      continue;
    }
    const PluginDescriptor* best = nullptr;
    Detection best_det;
    std::string declined;
    for (const auto* l : loaders) {
      const Detection d = l->loader->detect(pr);
      if (d.confidence <= 0) {
        declined += std::string(declined.empty() ? "" : "; ") + l->name + ": " + d.reason;
        continue;
      }
      if (!best || d.confidence > best_det.confidence || (d.confidence == best_det.confidence && l->priority > best->priority)) {
        best = l;
        best_det = d;
      }
    }
    if (best)
      claimed[best].push_back(f);
    else
      out.unreadable.push_back({f, "not a DICOM file or a slide (" + declined + ")", true});
    progress.advance();
  }
  progress.finish();
  for (const auto& [loader, fs_] : claimed) loader->loader->catalog(fs_, out);

  for (auto& st : out.studies)
    std::stable_sort(st.series.begin(), st.series.end(), [](const SeriesInfo& a, const SeriesInfo& b) {
      return a.number != b.number ? a.number < b.number : a.uid < b.uid;
    });
  std::stable_sort(out.studies.begin(), out.studies.end(), [](const StudyInfo& a, const StudyInfo& b) {
    return a.patient_id != b.patient_id ? a.patient_id < b.patient_id : a.study_date < b.study_date;
  });
  out.pair_by_frame_of_reference();
  std::sort(out.unreadable.begin(), out.unreadable.end(),
            [](const Unreadable& a, const Unreadable& b) { return a.path < b.path; });
  return out;
}

Result<const SeriesInfo*> select_series(const Catalog& catalog, const std::string& uid, const std::string& input) {
  const auto all = catalog.all_series();
  if (!uid.empty()) {
    std::vector<const SeriesInfo*> parts;
    for (const auto* s : all) {
      if (s->uid == uid) return s;
      if (s->uid.rfind(uid + "#", 0) == 0) parts.push_back(s);
    }
    if (!parts.empty()) {
      std::string list;
      for (const auto* s : parts) list += " " + s->uid;
      return Error(ErrorCode::kInvalidArgument, "series " + uid + " was split into parts; pick one of:" + list, input);
    }
    return Error(ErrorCode::kNotFound, "no series " + uid, input);
  }
  if (all.empty()) {
    if (catalog.documents.size() == 1 && catalog.unreadable.empty())
      return Error(ErrorCode::kUnsupported,
                   "a " + catalog.documents.front().kind + ", not an image series (`oncoquant info` shows what it holds)", input);
    if (catalog.unreadable.size() == 1 && catalog.unreadable.front().path == input)
      return Error(ErrorCode::kUnreadable, catalog.unreadable.front().reason, input);
    std::string why = "no image series found";
    if (!catalog.unreadable.empty())
      why += " (" + catalog.unreadable.front().path + ": " + catalog.unreadable.front().reason +
             (catalog.unreadable.size() > 1 ? ", and " + std::to_string(catalog.unreadable.size() - 1) + " more unusable files)"
                                            : ")");
    return Error(ErrorCode::kNotFound, why, input);
  }
  if (all.size() > 1) {
    std::string list;
    for (const auto* s : all) list += "\n  " + s->uid + " (" + s->modality + ", " + s->description + ")";
    return Error(ErrorCode::kInvalidArgument, std::to_string(all.size()) + " series found; choose one with --series:" + list,
                 input);
  }
  return all.front();
}

Result<Volume> load_series(const SeriesInfo& s, const LoadOptions& options) {
  const std::string subject = s.files.empty() ? s.uid : s.files.front();
  const PluginDescriptor* loader = find_plugin(s.loader);
  if (!loader || !loader->loader || !loader->loader->load_volume)
    return Error(ErrorCode::kUnsupported, "series " + s.uid + " cannot be loaded as a volume", subject);
  if (!s.loadable) return Error(ErrorCode::kInconsistent, "series " + s.uid + " cannot be loaded: " + s.problem, subject);
  return loader->loader->load_volume(s, options);
}

}  // namespace oq
