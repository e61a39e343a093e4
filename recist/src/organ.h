// How lesions are grouped into organs for the "2 per organ" rules (internal).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace oq::recist::detail {

// Lower case, side dropped, plural folded: "Left lung" and "lungs" are the organ "lung" (paired
// organs count as one); every node is the organ "lymph node".
inline std::string organ_key(std::string organ, bool nodal) {
  if (nodal) return "lymph node";
  std::transform(organ.begin(), organ.end(), organ.begin(), [](unsigned char ch) { return std::tolower(ch); });
  for (const char* side : {"left ", "right ", "bilateral "})
    if (organ.rfind(side, 0) == 0) organ = organ.substr(std::string(side).size());
  if (organ == "lungs") organ = "lung";
  if (organ == "kidneys") organ = "kidney";
  if (organ == "ovaries") organ = "ovary";
  if (organ == "adrenals" || organ == "adrenal glands" || organ == "adrenal gland") organ = "adrenal";
  if (organ == "breasts") organ = "breast";
  return organ;
}

}  // namespace oq::recist::detail
