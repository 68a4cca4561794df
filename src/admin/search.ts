import { randomBytes } from 'node:crypto'
import type { Cache } from '../cache/index.js'

/** One page of a key search, and the cursor of the next page (undefined at the end). */
export interface KeyPage {
  readonly keys: readonly string[]
  readonly cursor: string | undefined
  /** Keys listed before this page in the same search. */
  readonly offset: number
}

interface Running {
  readonly iterator: AsyncIterator<string>
  readonly cacheName: string
  readonly pattern: string
  offset: number
  touched: number
}

/** Searches left idle longer than this are dropped. */
const IDLE_MS = 10 * 60_000
/** The most searches kept open at once; the least recently used is dropped first. */
const MAX_OPEN = 32

/**
 * Key searches paged by cursor. `cache.keys(pattern)` walks the keyspace with SCAN (never KEYS);
 * a search keeps its iterator between pages under a random cursor, so page 2 continues where
 * page 1 stopped instead of scanning again. A cursor is bound to its cache and pattern; an
 * unknown or expired one is reported, never guessed at.
 */
export class KeySearches {
  readonly #open = new Map<string, Running>()

  async page(
    cacheName: string,
    cache: Cache,
    pattern: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<KeyPage | 'expired'> {
    this.#sweep()
    let running: Running | undefined
    if (cursor !== undefined) {
      running = this.#open.get(cursor)
      this.#open.delete(cursor)
      if (running === undefined || running.cacheName !== cacheName || running.pattern !== pattern) {
        return 'expired'
      }
    } else {
      const iterator = cache.keys(pattern)[Symbol.asyncIterator]()
      running = { iterator, cacheName, pattern, offset: 0, touched: Date.now() }
    }
    const keys: string[] = []
    let done = false
    while (keys.length < limit) {
      const next = await running.iterator.next()
      if (next.done) {
        done = true
        break
      }
      keys.push(next.value)
    }
    const offset = running.offset
    running.offset += keys.length
    if (done) return { keys, cursor: undefined, offset }
    const id = randomBytes(12).toString('base64url')
    running.touched = Date.now()
    this.#open.set(id, running)
    while (this.#open.size > MAX_OPEN) this.#drop(this.#open.keys().next().value as string)
    return { keys, cursor: id, offset }
  }

  #sweep(): void {
    const now = Date.now()
    for (const [id, running] of this.#open) if (now - running.touched > IDLE_MS) this.#drop(id)
  }

  #drop(id: string): void {
    const running = this.#open.get(id)
    this.#open.delete(id)
    void running?.iterator.return?.()?.catch(() => {})
  }

  /** Ends every open search. */
  close(): void {
    for (const id of [...this.#open.keys()]) this.#drop(id)
  }
}
