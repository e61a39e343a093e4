#!/usr/bin/python3
"""An independent reader of TID 1500 SRs for the tests (pydicom, not DCMTK): prints, as JSON, each
measurement group's tracking identifier and UID, label (Comment), numeric values with units, and
every SCOORD turned back into patient coordinates (LPS mm) through the plane of the image it
references, found under IMAGES (when given)."""
import json
import os
import sys

import pydicom


def image_planes(folder):
    planes = {}
    if not folder:
        return planes
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                ds = pydicom.dcmread(os.path.join(root, name), stop_before_pixels=True)
            except Exception:
                continue
            if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds:
                planes[ds.SOPInstanceUID] = ([float(v) for v in ds.ImagePositionPatient],
                                             [float(v) for v in ds.ImageOrientationPatient],
                                             [float(v) for v in ds.PixelSpacing])
    return planes


def to_patient(plane, column, row):
    # SCOORD: (column, row), the first pixel's centre at (0.5, 0.5) (PS3.3 C.18.6.1.1).
    pos, o, (row_spacing, col_spacing) = plane
    c, r = (column - 0.5) * col_spacing, (row - 0.5) * row_spacing
    return [pos[i] + c * o[i] + r * o[3 + i] for i in range(3)]


def meaning(item):
    return item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else ""


def read_group(group, planes):
    out = {"values": []}
    for item in group.ContentSequence:
        name = meaning(item)
        if name == "Tracking Identifier":
            out["tracking_identifier"] = item.TextValue
        elif name == "Tracking Unique Identifier":
            out["tracking_uid"] = item.UID
        elif name == "Comment":
            out["label"] = item.TextValue
        elif item.ValueType == "NUM":
            mv = item.MeasuredValueSequence[0] if "MeasuredValueSequence" in item and len(item.MeasuredValueSequence) else None
            value = {"name": name,
                     "value": float(mv.NumericValue) if mv is not None else None,
                     "unit": mv.MeasurementUnitsCodeSequence[0].CodeValue if mv is not None else None}
            for child in getattr(item, "ContentSequence", []):
                if child.ValueType == "SCOORD":
                    ref = child.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                    data = [float(v) for v in child.GraphicData]
                    value["image"] = ref
                    if ref in planes:
                        value["points_mm"] = [to_patient(planes[ref], data[i], data[i + 1]) for i in range(0, len(data), 2)]
                if child.ValueType == "IMAGE" and "ReferencedSegmentNumber" in child.ReferencedSOPSequence[0]:
                    ref = child.ReferencedSOPSequence[0]
                    value["segment"] = {"sop_instance_uid": ref.ReferencedSOPInstanceUID,
                                        "number": int(ref.ReferencedSegmentNumber)}
                if child.ValueType == "CODE" and meaning(child) == "Derivation":
                    value["derivation"] = child.ConceptCodeSequence[0].CodeMeaning
            out["values"].append(value)
    return out


def main():
    sr = pydicom.dcmread(sys.argv[1])
    planes = image_planes(sys.argv[2] if len(sys.argv) > 2 else None)
    report = {"patient_id": sr.PatientID, "study_uid": sr.StudyInstanceUID, "groups": [], "evaluations": {}}
    for item in sr.ContentSequence:
        if meaning(item) == "Imaging Measurements":
            report["groups"] = [read_group(g, planes) for g in item.ContentSequence if meaning(g) == "Measurement Group"]
        elif meaning(item) == "Qualitative Evaluations":
            for e in item.ContentSequence:
                if e.ValueType == "CODE":
                    report["evaluations"][meaning(e)] = e.ConceptCodeSequence[0].CodeValue
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
