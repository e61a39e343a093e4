// `oncoquant convert` given a DICOM SEG (cmd_convert.cpp dispatches to it).
#pragma once

#include <string>

#include "args.h"
#include "oq/plugin.h"
#include "oq/study.h"

namespace oq::cli {

// Writes the SEG's segments onto its series' grid into `temp` (committed by the caller); the exit code.
int convert_segmentation(const Args& args, const DocumentInfo& seg, const std::string& temp, const std::string& out,
                         const PluginDescriptor& exporter);

}  // namespace oq::cli
