// The plugin registry. Each plugin defines exactly one descriptor constant; the build generates
// the table of all of them (plugins/CMakeLists.txt), so nothing depends on static-initialisation
// order and the linker cannot drop a plugin. Between loaders that claim the same file the
// higher `priority` wins - never the table order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/slide.h"
#include "oq/study.h"
#include "oq/volume.h"

namespace oq {

enum class PluginKind { kLoader, kExporter, kSegmenter, kQuantifier };
const char* to_string(PluginKind k);

// How sure a plugin is that it handles an input: 0 = declines (reason says why), 1 = might,
// 2 = plausible (extension only), 3 = recognised by content, 4 = certain (magic and structure).
struct Detection {
  int confidence = 0;
  std::string reason;
  static Detection decline(std::string why) { return {0, std::move(why)}; }
};

// What a loader may look at to detect a file: its path, size and first bytes.
struct FileProbe {
  std::string path;
  std::uint64_t size = 0;
  std::string head;  // up to the first 4 KiB
};

// The value a volume's voxels should carry.
enum class Units { kDefault, kNative, kHU, kSUVbw, kSULlbm };
const char* to_string(Units u);
bool parse_units(const std::string& text, Units& out);

struct LoadOptions {
  Units units = Units::kDefault;
  bool allow_pet_intercept = false;  // a non-zero intercept on PET is refused unless forced
};

struct LoaderOps {
  Detection (*detect)(const FileProbe& probe);
  // Catalogues files this loader claimed: adds studies/series, slides, and unreadable files.
  void (*catalog)(const std::vector<std::string>& files, Catalog& out);
  // Loads one catalogued series as a volume; nullptr for loaders that do not give volumes.
  Result<Volume> (*load_volume)(const SeriesInfo& series, const LoadOptions& options);
  // Opens one catalogued slide for reading pixels; nullptr for loaders that do not give slides.
  Result<std::unique_ptr<SlideReader>> (*open_slide)(const SlideInfo& slide);
};

struct ExporterOps {
  Detection (*accepts)(const std::string& out_path);
  // Writes atomically: either the complete file under `path` or nothing.
  Status (*write_volume)(const Volume& volume, const std::string& path);
};

struct PluginDescriptor {
  const char* name;
  PluginKind kind;
  const char* summary;
  int priority;
  const LoaderOps* loader;      // set for kLoader
  const ExporterOps* exporter;  // set for kExporter
};

// The generated table (defined in the oq_plugins library).
const std::vector<const PluginDescriptor*>& all_plugins();
const PluginDescriptor* find_plugin(const std::string& name);
// The exporter that writes this output path (by its extension), or null.
const PluginDescriptor* find_exporter(const std::string& path);

}  // namespace oq
