import zlib from 'node:zlib'
import { InvalidOptionError } from '../errors.js'

/** The compression algorithms a codec can use; zstd needs a Node with `zlib.zstdCompress`. */
export type CompressionAlgorithm = 'gzip' | 'brotli' | 'zstd'

/** When and how a codec compresses values: the algorithm and the size from which it starts. */
export interface CompressionOptions {
  /** Which algorithm writes new entries. Entries written with any of them stay readable. */
  readonly algorithm?: CompressionAlgorithm
  /** Values whose encoded form is at least this many bytes are compressed. Default 1024. */
  readonly threshold?: number
  /** Algorithm level: gzip 1-9 (default 6), brotli 0-11 (default 4), zstd 1-22 (default 3). */
  readonly level?: number
}

/** Header codes for the compression of an entry (two bits of the flags byte). */
export const COMPRESSION_CODE: Readonly<Record<CompressionAlgorithm, number>> = {
  gzip: 1,
  brotli: 2,
  zstd: 3,
}

type ZstdZlib = typeof zlib & {
  zstdCompressSync?: (buf: Uint8Array, options?: object) => Buffer
  zstdDecompressSync?: (buf: Uint8Array, options?: object) => Buffer
  constants: typeof zlib.constants & { ZSTD_c_compressionLevel?: number }
}
const z = zlib as ZstdZlib

/** True when this Node.js has zstd in node:zlib (22.15 and later). */
export const zstdAvailable = typeof z.zstdCompressSync === 'function'

export interface Compressor {
  readonly code: number
  readonly threshold: number
  compress(bytes: Uint8Array): Uint8Array
}

export function createCompressor(options: CompressionOptions): Compressor {
  const algorithm = options.algorithm ?? 'gzip'
  const threshold = options.threshold ?? 1024
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new InvalidOptionError(
      `compression.threshold must be a whole number of bytes >= 0, got ${threshold}`,
    )
  }
  const level = options.level
  switch (algorithm) {
    case 'gzip':
      return { code: 1, threshold, compress: (b) => zlib.gzipSync(b, { level: level ?? 6 }) }
    case 'brotli':
      return {
        code: 2,
        threshold,
        compress: (b) =>
          zlib.brotliCompressSync(b, {
            params: {
              [zlib.constants.BROTLI_PARAM_QUALITY]: level ?? 4,
              [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.byteLength,
            },
          }),
      }
    case 'zstd': {
      const compress = z.zstdCompressSync
      if (!compress) {
        throw new InvalidOptionError(
          `compression 'zstd' needs Node.js 22.15 or later (this is ${process.version}); use 'gzip' or 'brotli'`,
        )
      }
      const param = z.constants.ZSTD_c_compressionLevel ?? 100
      return { code: 3, threshold, compress: (b) => compress(b, { params: { [param]: level ?? 3 } }) }
    }
    default:
      throw new InvalidOptionError(
        `Unknown compression algorithm ${JSON.stringify(algorithm)}: use gzip, brotli or zstd`,
      )
  }
}

/** Inflates an entry's payload; `maxBytes` bounds the output so a hostile entry cannot exhaust memory. */
export function decompress(code: number, bytes: Uint8Array, maxBytes: number): Uint8Array {
  const options = { maxOutputLength: maxBytes }
  switch (code) {
    case 1:
      return zlib.gunzipSync(bytes, options)
    case 2:
      return zlib.brotliDecompressSync(bytes, options)
    case 3:
      if (!z.zstdDecompressSync) throw new Error(`zstd entries need Node.js 22.15 or later to read`)
      return z.zstdDecompressSync(bytes, options)
    default:
      throw new Error(`unknown compression code ${code}`)
  }
}
