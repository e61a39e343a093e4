// The JSON forms of ../shared/specs/recist-case.schema.json (input) and
// recist-result.schema.json (output).
#pragma once

#include <string>

#include "oq/error.h"
#include "oq/recist/assess.h"
#include "oq/recist/case.h"

namespace oq::recist {

// Parses and checks a case against the schema: unknown keys, wrong types, values out of range
// and malformed dates are all reported, each with its JSON path. `source` names the input in
// the error.
Result<Case> parse_case(const std::string& json_text, const std::string& source);

// The assessment as recist-result.schema.json, indented by two.
std::string to_json(const Assessment& a);

}  // namespace oq::recist
