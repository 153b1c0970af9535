// This module is browser compatible.
/**
 * The register tiles of the convolution kernels: how much work one
 * invocation does. Options of `conv2d`, `conv2dBackward` and
 * `convTranspose2d`; the defaults were measured fastest on llvmpipe
 * (bench/README.md).
 *
 * @module
 */

/** Register tile of the direct convolution kernel. */
export interface ConvTile {
  /** Consecutive output pixels along x per invocation. */
  px: number;
  /** Output channels per invocation (multiple of 4). */
  co: number;
  /**
   * Read a zero-padded copy of the input with aligned vec4 loads and no bounds checks (needs
   * px a multiple of 4): per-lane loads are the costliest thing on llvmpipe.
   */
  padded?: boolean;
  /** Read the zero-padded copy as a texture (px a multiple of 4; implies `padded`). */
  texture?: boolean;
}

/** Register tile of the chunked weight-gradient kernel (any shape; the fallback). */
export interface ChunkedGradTile {
  /** Consecutive pixels per step. */
  px: number;
  /** Output channels per invocation (multiple of 4). */
  co: number;
  /** Input channels per invocation (default 1). */
  ci?: number;
  /** Read x and dy from textures (px a multiple of 4; the default kernel when they fit). */
  texture?: boolean;
}

/** Register tile of the windowed weight-gradient kernel (the default for 16+ input channels). */
export interface WindowGradTile {
  /** Consecutive pixels per step. */
  px: number;
  /** Output channels per invocation (multiple of 4). */
  co: number;
  /** Read x from a zero-padded copy with aligned vec4 loads (px a multiple of 4). */
  padded?: boolean;
  /** Read the zero-padded copy of x as a texture (px a multiple of 4; implies `padded`). */
  texture?: boolean;
  /** Input channels per lane: 1×1 convs reading dy's rows from a texture only (default 4). */
  ci?: number;
}

/** Register tile of the Winograd F(2×2, 3×3) convolution kernel. */
export interface WinogradTile {
  /** 2×2 output tiles along x per invocation. */
  tiles: number;
  /** Output channels per invocation (multiple of 4). */
  co: number;
  /** Read a zero-padded copy of the input with aligned vec4 loads (even `tiles` only). */
  padded?: boolean;
  /** Read the zero-padded copy as a texture (even `tiles` only; implies `padded`). */
  texture?: boolean;
}
