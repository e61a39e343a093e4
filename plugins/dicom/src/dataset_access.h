// Small reads of a DCMTK dataset shared by the SR, SEG and document readers (internal).
#pragma once

#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

namespace oq::dicom::access {

// An attribute's value (all values, backslash-separated); "" when absent.
inline std::string text(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  item.findAndGetOFStringArray(tag, v);
  return v.c_str();
}

// The items of a sequence; none when absent.
inline std::vector<DcmItem*> items(DcmItem& item, const DcmTagKey& sequence) {
  std::vector<DcmItem*> out;
  DcmSequenceOfItems* seq = nullptr;
  if (item.findAndGetSequence(sequence, seq).bad() || !seq) return out;
  for (unsigned long i = 0; i < seq->card(); ++i) out.push_back(seq->getItem(i));
  return out;
}

// A sequence's first item, or null (also for a null `item`).
inline DcmItem* first_item(DcmItem* item, const DcmTagKey& sequence) {
  DcmItem* out = nullptr;
  return item && item->findAndGetSequenceItem(sequence, out, 0).good() ? out : nullptr;
}

}  // namespace oq::dicom::access
