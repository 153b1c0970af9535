/**
 * Brain-tumour segmentation of multi-modal MRI on WebGPU: NIfTI and MetaImage
 * input, the cross-modality convolution + convLSTM network of Tseng et al.
 * (CVPR 2017) written in WGSL, streaming inference and training.
 *
 * @example
 * ```ts
 * import { readNifti } from "@webseg/brats";
 * const volume = await readNifti("BraTS2021_00000_flair.nii.gz");
 * console.log(volume.shape); // [240, 240, 155]
 * ```
 *
 * @module
 */

export * from "./data/mod.ts";
export * from "./gpu/mod.ts";
export * from "./pipeline/mod.ts";
export * from "./model/mod.ts";
export * from "./train/mod.ts";
export * from "./io/mod.ts";
