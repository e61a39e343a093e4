// The IHC panel of `oncoquant report --ihc`: `oncoquant ihc --json` results read back, and the
// phenotype group assigned from them when ER, PR and HER2 are all there and evaluable.
#pragma once

#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/report.h"

namespace oq::cli {

// Each file an `ihc --json` result; an overlay PNG beside it (NAME_overlay.png for NAME.json) is
// shown as its thumbnail.
Result<IhcPanel> read_ihc_panel(const std::vector<std::string>& files);

}  // namespace oq::cli
