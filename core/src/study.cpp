#include "oq/study.h"

namespace oq {

void Catalog::add_series(const StudyInfo& study_header, SeriesInfo series) {
  for (auto& st : studies) {
    if (st.study_uid == study_header.study_uid && st.patient_id == study_header.patient_id) {
      st.series.push_back(std::move(series));
      return;
    }
  }
  StudyInfo st = study_header;
  st.series.clear();
  st.series.push_back(std::move(series));
  studies.push_back(std::move(st));
}

std::vector<const SeriesInfo*> Catalog::all_series() const {
  std::vector<const SeriesInfo*> out;
  for (const auto& st : studies)
    for (const auto& se : st.series) out.push_back(&se);
  return out;
}

}  // namespace oq
