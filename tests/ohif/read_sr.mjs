// Reads a TID 1500 SR the way OHIF does: dcmjs parses it and @cornerstonejs/adapters'
// MeasurementReport.generateToolState turns its measurement groups into Cornerstone3D tool states,
// with the referenced images' planes from a metadata provider (as OHIF's own provider gives them).
// Prints, as JSON, each Bidirectional: label, Tracking UID, the four handle points in patient
// coordinates (long axis first) and the lengths the tool would show.
//   node read_sr.mjs SR.dcm IMAGES_DIR
import fs from 'node:fs';
import path from 'node:path';

import dcmjs from 'dcmjs';
import * as core from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';

const [srPath, imagesDir] = process.argv.slice(2);

function readDataset(file) {
  const bytes = fs.readFileSync(file);
  const message = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
}

function* filesUnder(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else yield full;
  }
}

// imageId -> imagePlaneModule, named as Cornerstone3D's own metadata provider names it.
const planes = new Map();
const imageIdOf = {};
for (const file of filesUnder(imagesDir)) {
  let ds;
  try {
    ds = readDataset(file);
  } catch {
    continue;
  }
  if (!ds.ImagePositionPatient || !ds.ImageOrientationPatient) continue;
  const imageId = `oq:${ds.SOPInstanceUID}`;
  const o = ds.ImageOrientationPatient.map(Number);
  const spacing = ds.PixelSpacing.map(Number);
  planes.set(imageId, {
    frameOfReferenceUID: ds.FrameOfReferenceUID,
    rows: ds.Rows,
    columns: ds.Columns,
    imagePositionPatient: ds.ImagePositionPatient.map(Number),
    rowCosines: o.slice(0, 3),
    columnCosines: o.slice(3, 6),
    rowPixelSpacing: spacing[0],
    columnPixelSpacing: spacing[1],
    pixelSpacing: spacing,
  });
  imageIdOf[`${ds.SOPInstanceUID}:1`] = imageId;
}
core.metaData.addProvider((type, imageId) => (type === 'imagePlaneModule' ? planes.get(imageId) : undefined), 10000);

const sr = readDataset(srPath);
const { MeasurementReport } = adaptersSR.Cornerstone3D;
const state = MeasurementReport.generateToolState(sr, imageIdOf, core.metaData);
const out = (state.Bidirectional || []).map((m) => {
  const stats = Object.values(m.annotation.data.cachedStats || {})[0] || {};
  return {
    label: m.annotation.data.label,
    trackingUid: m.TrackingUniqueIdentifier,
    sopInstanceUid: m.sopInstanceUid,
    points: m.annotation.data.handles.points,
    length: Number(stats.length),
    width: Number(stats.width),
  };
});
process.stdout.write(JSON.stringify({ bidirectional: out, toolTypes: Object.keys(state) }, null, 1) + '\n');
