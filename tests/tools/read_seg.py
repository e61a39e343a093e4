#!/usr/bin/python3
"""An independent reader of DICOM SEG for the tests (pydicom and numpy, not DCMTK): prints, as JSON,
each segment's label and Tracking UID and the centres of its voxels in patient coordinates (LPS mm,
rounded to 0.0001), placed through each frame's Plane Position and the shared Plane Orientation and
Pixel Measures; and which source image each frame names."""
import json
import sys

import numpy
import pydicom


def main():
    seg = pydicom.dcmread(sys.argv[1])
    shared = seg.SharedFunctionalGroupsSequence[0]
    o = [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient]
    row_spacing, col_spacing = (float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing)
    frames = seg.pixel_array
    if frames.ndim == 2:
        frames = frames[numpy.newaxis]
    segments = {int(s.SegmentNumber): {"number": int(s.SegmentNumber), "label": s.SegmentLabel, "tracking_uid": getattr(s, "TrackingUID", ""),
                                       "voxels_mm": [], "source_images": []}
                for s in seg.SegmentSequence}
    for index, frame in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        position = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        source = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        segments[number]["source_images"].append(source)
        rows, cols = numpy.nonzero(frames[index])
        for r, c in zip(rows.tolist(), cols.tolist()):
            p = [position[i] + c * col_spacing * o[i] + r * row_spacing * o[3 + i] for i in range(3)]
            segments[number]["voxels_mm"].append([round(v, 4) for v in p])
    json.dump({"sop_instance_uid": seg.SOPInstanceUID, "patient_id": seg.PatientID, "study_uid": seg.StudyInstanceUID,
               "frame_of_reference_uid": seg.FrameOfReferenceUID,
               "referenced_series": [s.SeriesInstanceUID for s in seg.ReferencedSeriesSequence],
               "segments": list(segments.values())}, sys.stdout)


if __name__ == "__main__":
    main()
