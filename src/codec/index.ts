// Internal door: what code outside codec/ uses from it. Never in package.json "exports".

export type { Codec, CodecOptions } from './codec.js'
export { createCodec, stablePart, staleEntry } from './codec.js'
export type { CompressionAlgorithm, CompressionOptions } from './compression.js'
export type { Serializer } from './serializers.js'
export { jsonSerializer, msgpackSerializer } from './serializers.js'
export type { DecodeLimits } from './value.js'
export { copyMutableParts, Envelope, snapshot, UNDEFINED } from './value.js'
