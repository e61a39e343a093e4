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

void Catalog::pair_by_frame_of_reference() {
  for (auto& st : studies)
    for (auto& a : st.series) {
      a.paired_series.clear();
      if (a.frame_of_reference_uid.empty()) continue;
      for (const auto& st2 : studies)
        for (const auto& b : st2.series)
          if (&a != &b && b.frame_of_reference_uid == a.frame_of_reference_uid && b.modality != a.modality)
            a.paired_series.push_back(b.uid);
    }
}

Grid grid_of(const SeriesInfo& s) {
  Grid g;
  g.size = s.matrix;
  g.spacing = s.spacing;
  g.origin = s.origin;
  g.direction = s.direction;
  return g;
}

}  // namespace oq
