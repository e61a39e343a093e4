// Finds what inputs hold: walks files and folders, asks every loader plugin how sure it is of
// each file, hands each file to the most confident one (ties broken by the plugin's priority),
// and gathers one catalogue.
#pragma once

#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/plugin.h"
#include "oq/study.h"

namespace oq {

Catalog scan_inputs(const std::vector<std::string>& paths);

// The series with this UID; with an empty UID, the only series (an error lists them when there
// are several).
Result<const SeriesInfo*> select_series(const Catalog& catalog, const std::string& uid, const std::string& input);

// Loads a catalogued series as a volume with the loader that catalogued it; refuses a series the
// catalogue marked unloadable, naming its first file and the reason.
Result<Volume> load_series(const SeriesInfo& series, const LoadOptions& options);

}  // namespace oq
