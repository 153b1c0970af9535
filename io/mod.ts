/**
 * Files: the library's only Deno calls, and the path faces of the codecs
 * (NIfTI, MetaImage, checkpoints, cases) and of `segment`. Everything else
 * works on bytes and web streams, so it runs in a browser too.
 *
 * @example
 * ```ts
 * import { discoverCases, loadModel, makeDir, segmentCase } from "./mod.ts";
 * const input = await Deno.makeTempDir(); // a folder of BraTS cases
 * const output = `${input}/pred`;
 * await makeDir(output);
 * const model = await loadModel("models/default.safetensors");
 * const { cases } = await discoverCases(input);
 * for (const c of cases) await segmentCase(c, `${output}/${c.id}.nii.gz`, { model });
 * model.release();
 * ```
 *
 * @module
 */

export {
  fileError,
  type FileSource,
  fileSource,
  listFiles,
  makeDir,
  openFile,
  readBytes,
} from "./files.ts";
export { writeAtomic } from "./atomic_write.ts";
export {
  createNiftiWriter,
  type NiftiWriterOptions,
  openNiftiSlices,
  readNifti,
  readNiftiHeader,
  writeNifti,
} from "./nifti.ts";
export { readMha, readMhaHeader } from "./mha.ts";
export {
  caseSources,
  discoverCases,
  fileSources,
  findLabelFiles,
  readVolumeGeometry,
} from "./cases.ts";
export {
  checkpointPaths,
  loadCheckpoint,
  loadCheckpointInto,
  loadModel,
  saveCheckpoint,
} from "./checkpoint.ts";
export { segmentCase } from "./segment.ts";
