// Reads a TID 1500 SR the way OHIF does: dcmjs parses it and @cornerstonejs/adapters'
// MeasurementReport.generateToolState turns its measurement groups into Cornerstone3D tool states,
// with the referenced images' planes from a metadata provider (as OHIF's own provider gives them).
// Prints, as JSON, each Bidirectional: label, Tracking UID, the four handle points in patient
// coordinates (long axis first) and the lengths the tool would show.
//   node read_sr.mjs SR.dcm IMAGES_DIR
import * as core from '@cornerstonejs/core';
import { adaptersSR } from '@cornerstonejs/adapters';

import { loadImages, metadataProvider, readDataset } from './images.mjs';

const [srPath, imagesDir] = process.argv.slice(2);
const { instances, imageIdOf } = loadImages(imagesDir);
core.metaData.addProvider(metadataProvider(instances), 10000);

const { MeasurementReport } = adaptersSR.Cornerstone3D;
const state = MeasurementReport.generateToolState(readDataset(srPath), imageIdOf, core.metaData);
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
