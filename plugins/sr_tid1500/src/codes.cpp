#include "codes.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace oq::sr {

DSRCodedEntryValue finding_code() {
  return DSRCodedEntryValue("52988006", "SCT", "Lesion");
}

std::optional<DSRCodedEntryValue> finding_site_of(const std::string& organ, bool nodal) {
  if (nodal) return DSRCodedEntryValue("59441001", "SCT", "Lymph node");
  std::string key = organ;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* side : {"left ", "right ", "bilateral "})
    if (key.rfind(side, 0) == 0) key = key.substr(std::string(side).size());
  if (!key.empty() && key.back() == 's' && key != "adrenals") key.pop_back();  // "lungs", "kidneys"
  // SNOMED CT body structures.
  static const std::map<std::string, std::pair<const char*, const char*>> sites{
      {"liver", {"10200004", "Liver"}},
      {"lung", {"39607008", "Lung"}},
      {"lymph node", {"59441001", "Lymph node"}},
      {"node", {"59441001", "Lymph node"}},
      {"bone", {"272673000", "Bone"}},
      {"brain", {"12738006", "Brain"}},
      {"adrenal", {"23451007", "Adrenal gland"}},
      {"adrenals", {"23451007", "Adrenal gland"}},
      {"adrenal gland", {"23451007", "Adrenal gland"}},
      {"spleen", {"78961009", "Spleen"}},
      {"kidney", {"64033007", "Kidney"}},
      {"pleura", {"3120008", "Pleura"}},
      {"breast", {"76752008", "Breast"}},
      {"skin", {"39937001", "Skin"}},
      {"peritoneum", {"15425007", "Peritoneum"}},
      {"pancrea", {"15776009", "Pancreas"}},
      {"ovary", {"15497006", "Ovary"}},
      {"soft tissue", {"87784001", "Soft tissue"}},
  };
  const auto it = sites.find(key);
  if (it == sites.end()) return std::nullopt;
  return DSRCodedEntryValue(it->second.first, "SCT", it->second.second);
}

DSRCodedEntryValue status_code(MeasurementStatus status) {
  switch (status) {
    case MeasurementStatus::kMeasured:
      return DSRCodedEntryValue("measured", kOncoQuantScheme, "Measured");
    case MeasurementStatus::kAbsent:
      return DSRCodedEntryValue("absent", kOncoQuantScheme, "Absent (disappeared)");
    case MeasurementStatus::kTooSmall:
      return DSRCodedEntryValue("too-small", kOncoQuantScheme, "Present, too small to measure");
    case MeasurementStatus::kNotEvaluated:
      return DSRCodedEntryValue("not-evaluated", kOncoQuantScheme, "Not evaluated");
    case MeasurementStatus::kPresent:
      return DSRCodedEntryValue("present", kOncoQuantScheme, "Present");
    case MeasurementStatus::kIncreased:
      return DSRCodedEntryValue("increased", kOncoQuantScheme, "Increased");
    case MeasurementStatus::kUnequivocalProgression:
      return DSRCodedEntryValue("unequivocal-pd", kOncoQuantScheme, "Unequivocal progression");
  }
  return DSRCodedEntryValue("not-evaluated", kOncoQuantScheme, "Not evaluated");
}

DSRCodedEntryValue method_code(MeasurementMethod method) {
  switch (method) {
    case MeasurementMethod::kAutomatic:
      return DSRCodedEntryValue("automatic", kOncoQuantScheme, "Automatic (OncoQuant)");
    case MeasurementMethod::kEdited:
      return DSRCodedEntryValue("edited", kOncoQuantScheme, "Automatic, edited by a reader");
    case MeasurementMethod::kManual:
      return DSRCodedEntryValue("manual", kOncoQuantScheme, "Measured by a reader");
  }
  return DSRCodedEntryValue("manual", kOncoQuantScheme, "Measured by a reader");
}

DSRCodedEntryValue response_code(const std::string& response) {
  static const std::map<std::string, const char*> meanings{
      {"CR", "Complete response"},
      {"PR", "Partial response"},
      {"SD", "Stable disease"},
      {"PD", "Progressive disease"},
      {"NE", "Not evaluable"},
      {"NA", "Not applicable"},
      {"Non-CR/Non-PD", "Non-CR/Non-PD"},
      {"iCR", "Immune complete response"},
      {"iPR", "Immune partial response"},
      {"iSD", "Immune stable disease"},
      {"iUPD", "Immune unconfirmed progressive disease"},
      {"iCPD", "Immune confirmed progressive disease"},
      {"yes", "New lesions present"},
      {"no", "No new lesions"},
      {"equivocal", "Equivocal new lesions"},
  };
  const auto it = meanings.find(response);
  return DSRCodedEntryValue(response, kOncoQuantScheme, it == meanings.end() ? response : it->second);
}

}  // namespace oq::sr
