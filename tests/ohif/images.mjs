// The images an SR refers to, as OHIF's metadata provider gives them to @cornerstonejs/adapters:
// every DICOM file under a folder read with dcmjs (pixel data dropped), by imageId "oq:<SOP UID>".
import fs from 'node:fs';
import path from 'node:path';

import dcmjs from 'dcmjs';

export function readDataset(file) {
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

// { instances: Map imageId -> dataset, imageIdOf: {"<SOP UID>:1": imageId} } for the images with a plane.
export function loadImages(dir) {
  const instances = new Map();
  const imageIdOf = {};
  for (const file of filesUnder(dir)) {
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
  return { instances, imageIdOf };
}

// The metadata modules the adapters ask for, named as Cornerstone3D's provider names them.
export function metadataProvider(instances) {
  return (type, imageId) => {
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
  };
}
