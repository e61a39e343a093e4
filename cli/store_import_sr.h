// `oncoquant store import-sr` (cmd_store.cpp dispatches to it).
#pragma once

#include <string>

#include "args.h"
#include "oq/recist/store.h"

namespace oq::cli {

// args: positional {"import-sr", SR.dcm}, --patient, optional --images. Returns the exit code.
int store_import_sr(const Args& args, const std::string& db, const recist::Actor& who);

}  // namespace oq::cli
