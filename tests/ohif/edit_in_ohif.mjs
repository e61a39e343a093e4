// What a reader does in OHIF, done with OHIF's own code: open an SR (dcmjs + @cornerstonejs/adapters
// generateToolState), change one Bidirectional's long and short axis lengths (each caliper kept on
// its line and centre), and save the measurements as OHIF saves them (MeasurementReport.generateReport,
// written by dcmjs).
//   node edit_in_ohif.mjs SR.dcm IMAGES_DIR LABEL LONG_MM SHORT_MM OUT.dcm
import fs from 'node:fs';
import path from 'node:path';

import dcmjs from 'dcmjs';
import * as core from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';

const [srPath, imagesDir, label, longMm, shortMm, outPath] = process.argv.slice(2);

function readDataset(file) {
  const bytes = fs.readFileSync(file);
  const message = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
  delete ds.PixelData;
  return ds;
}

function* filesUnder(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else yield full;
  }
}

// The metadata OHIF's provider gives the adapters, per imageId.
const instances = new Map();
const imageIdOf = {};
for (const file of filesUnder(imagesDir)) {
  let ds;
  try {
    ds = readDataset(file);
  } catch {
    continue;
  }
  if (!ds.ImagePositionPatient || !ds.ImageOrientationPatient) continue;
  instances.set(`oq:${ds.SOPInstanceUID}`, ds);
  imageIdOf[`${ds.SOPInstanceUID}:1`] = `oq:${ds.SOPInstanceUID}`;
}
core.metaData.addProvider((type, imageId) => {
  const ds = instances.get(imageId);
  if (!ds) return undefined;
  const o = ds.ImageOrientationPatient.map(Number);
  const spacing = ds.PixelSpacing.map(Number);
  switch (type) {
    case 'imagePlaneModule':
      return {
        frameOfReferenceUID: ds.FrameOfReferenceUID, rows: ds.Rows, columns: ds.Columns,
        imagePositionPatient: ds.ImagePositionPatient.map(Number), rowCosines: o.slice(0, 3), columnCosines: o.slice(3, 6),
        rowPixelSpacing: spacing[0], columnPixelSpacing: spacing[1], pixelSpacing: spacing,
      };
    case 'sopCommonModule':
      return { sopInstanceUID: ds.SOPInstanceUID, sopClassUID: ds.SOPClassUID };
    case 'instance':
      return ds;
    case 'frameNumber':
      return 1;
    default:
      return undefined;
  }
}, 10000);

const { MeasurementReport } = adaptersSR.Cornerstone3D;
const state = MeasurementReport.generateToolState(readDataset(srPath), imageIdOf, core.metaData);
const tool = (state.Bidirectional || []).find((m) => m.annotation.data.label === label);
if (!tool) {
  console.error(`no Bidirectional labelled ${label}`);
  process.exit(1);
}

// A caliper stretched or shrunk about its centre to `length` mm.
function resize(a, b, length) {
  const c = a.map((v, i) => (v + b[i]) / 2);
  const half = Math.hypot(...a.map((v, i) => v - b[i])) / 2;
  const k = length / 2 / half;
  return [c.map((v, i) => v + (a[i] - v) * k), c.map((v, i) => v + (b[i] - v) * k)];
}
const p = tool.annotation.data.handles.points;
const [l1, l2] = resize(p[0], p[1], Number(longMm));
const [s1, s2] = resize(p[2], p[3], Number(shortMm));
const imageId = tool.annotation.metadata.referencedImageId;
const annotation = {
  annotationUID: tool.annotation.annotationUID,
  metadata: tool.annotation.metadata,
  data: {
    label,
    handles: { points: [l1, l2, s1, s2] },
    cachedStats: { [`imageId:${imageId}`]: { length: Number(longMm), width: Number(shortMm), unit: 'mm' } },
  },
};
const report = MeasurementReport.generateReport({ [imageId]: { Bidirectional: { data: [annotation] } } }, core.metaData, {});
const buffer = dcmjs.data.datasetToBuffer(report.dataset);
fs.writeFileSync(outPath, Buffer.from(buffer));
