import type { Codec } from '../codec/index.js'
import { Envelope, UNDEFINED } from '../codec/index.js'

/** A bare safe integer: what `incr` works on, kept unwrapped in L2. */
export function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

/**
 * The L2 form of a value: tags folded into the entry (so an L1 filled from L2 knows them), encoded
 * when L2 keeps bytes (`codec`).
 */
export function toL2(value: unknown, tags: readonly string[] | undefined, codec: Codec | undefined): unknown {
  let wrapped = value
  // A counter stays a bare integer so L2 can `incr` it; L2 keeps its tags itself.
  if (tags && tags.length > 0 && !isCounter(value)) {
    wrapped =
      value instanceof Envelope
        ? new Envelope(value.value, value.staleAt, tags)
        : new Envelope(value, Infinity, tags)
  }
  if (!codec) return wrapped
  if (wrapped === UNDEFINED) return codec.encode(undefined)
  if (wrapped instanceof Envelope && wrapped.value === UNDEFINED) {
    return codec.encode(new Envelope(undefined, wrapped.staleAt, wrapped.tags))
  }
  return codec.encode(wrapped)
}

/** The cache's form of an L2 entry, and the tags it carried. */
export function fromL2(
  raw: unknown,
  codec: Codec | undefined,
): { value: unknown; tags: readonly string[] | undefined } {
  let value = codec ? codec.decode(raw as Uint8Array) : raw
  let tags: readonly string[] | undefined
  if (value instanceof Envelope) {
    tags = value.tags
    const inner = value.value === undefined ? UNDEFINED : value.value
    // A graced entry keeps its tags inside, so `touch` can rewrite it without losing them.
    value = value.staleAt === Infinity ? inner : new Envelope(inner, value.staleAt, tags)
  } else if (value === undefined) value = UNDEFINED
  return { value, tags }
}
