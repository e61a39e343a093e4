// What a batch does for one patient, planned before anything runs: the scans found in the archive
// (by date: CT, and PET of the same Frame of Reference), which is each treatment line's baseline and
// which its follow-ups, the baseline lesions to measure, the slides per marker. Planning is pure:
// catalogue + worklist in, plan out, so it is tested on hand-made catalogues.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oq/study.h"
#include "worklist.h"

namespace oq::cli::batch {

struct PlannedScan {
  std::string date;  // ISO 8601
  std::string ct_uid, ct_folder;
  std::string pet_uid, pet_folder;  // empty when the scan has no PET
};

struct PlannedLine {
  WorklistLine line;
  int baseline = -1;            // index into scans; -1 when no scan can be its baseline
  std::vector<int> follow_ups;  // indexes into scans, by date
  // The worklist names only the first line's baseline lesions. A later line keeps the lesions of the
  // line before, re-read at its own baseline where tracking found them (the imaging core's usual
  // re-baselining at progression); a reader reviews them like every automatic value.
  bool lesions_from_previous_line = false;
  std::string not_assessed;  // why the line cannot be assessed, or empty
};

struct CasePlan {
  std::string patient;
  std::vector<PlannedScan> scans;  // by date
  std::vector<PlannedLine> lines;
  std::vector<WorklistLesion> lesions;
  std::map<std::string, std::string> slides;  // marker -> path
  std::string images_folder;                  // holds every series of the patient (for report --images)
  std::vector<std::string> notes;             // what was left aside and why (a second CT on one date, ...)
  bool from_worklist = false;
};

// The folder that holds all the given files (their deepest common ancestor).
std::string common_folder(const std::vector<std::string>& files);

// Patients found in the catalogue (their Patient IDs) and the worklist, sorted; the slides the
// catalogue lists are matched to worklist entries by path, else to a patient and marker by their
// file name (<patient>_<marker>.<ext>, as the demo archive and many scanners' exports name them).
std::vector<std::string> patients_of(const Catalog& catalog, const Worklist* worklist);

CasePlan plan_case(const std::string& patient, const Catalog& catalog, const Worklist* worklist);

// The deterministic share of `patients` that shard k of n (1-based) takes: every n-th from k.
std::vector<std::string> shard_of(const std::vector<std::string>& patients, int k, int n);

}  // namespace oq::cli::batch
