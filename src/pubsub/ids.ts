import { InvalidEventIdError } from './errors.js'

const STREAM_ID = /^(\d{1,15})-(\d{1,15})$/

/** Checks a last-seen id from outside (an SSE header, a caller) and returns it in stream-id form. */
export function parseEventId(id: unknown): string {
  if (typeof id === 'string' && STREAM_ID.test(id)) return id
  const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 40)) : typeof id
  throw new InvalidEventIdError(
    `Event id ${shown} is not a stream id: pass an id this channel delivered, such as '1700000000000-0'`,
  )
}

/** Orders two stream ids (`ms-seq`): negative, zero or positive, as `Array.sort` wants. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am === bm ? as - bs : am - bm
}
