// What a reader does in OHIF, done with OHIF's own code: open an SR (dcmjs + @cornerstonejs/adapters
// generateToolState), change one Bidirectional's long and short axis lengths (each caliper kept on
// its line and centre), and save the measurements as OHIF saves them (MeasurementReport.generateReport,
// written by dcmjs).
//   node edit_in_ohif.mjs SR.dcm IMAGES_DIR LABEL LONG_MM SHORT_MM OUT.dcm
import fs from 'node:fs';

import dcmjs from 'dcmjs';
import * as core from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';

import { loadImages, metadataProvider, readDataset } from './images.mjs';

const [srPath, imagesDir, label, longMm, shortMm, outPath] = process.argv.slice(2);
const { instances, imageIdOf } = loadImages(imagesDir);
core.metaData.addProvider(metadataProvider(instances), 10000);

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
