import { InvalidOptionError } from '../errors.js'
import type { Clock } from '../internal/index.js'
import { channel, publishDegraded } from '../observe/index.js'
import type {
  CompleteStore,
  StoreCapabilities,
  StoreCore,
  StoreEntry,
  StoreExtras,
  StoreStats,
  StoreWrite,
  StoreWriteOptions,
} from '../stores/index.js'

/** Where the fallback keeps its journal of what the outage touched: outside any cache prefix. */
const JOURNAL = '__cachekit:outage:'
const KIND = { key: 'k:', pattern: 'p:', tag: 't:' } as const
/** How often, while on the fallback, the primary is checked (its `available()`, or a probe). */
const PROBE_EVERY = 1000

export interface FallbackOptions {
  readonly clock: Clock
  /** Releases the two stores (each closes when no other cache uses it). */
  readonly release: () => Promise<void>
}

/**
 * A primary store (Redis) with a fallback (SQL) for when the primary is unavailable: its circuit
 * is open, or a call failed with `E_STORE_UNAVAILABLE`.
 *
 * The rule that keeps both stores free of stale data: while on the fallback, every key written,
 * incremented, touched or deleted, and every pattern and tag invalidated, is recorded in a
 * journal inside the fallback (so every process, and a restarted one, sees it). When the primary
 * answers again, the journal is applied to the primary as deletes (a pre-outage value that the
 * outage superseded is never served), and exactly the applied marks, with the outage-era values
 * they stand for, are removed from the fallback (a later outage never revives an outage-era
 * value; marks another process wrote meanwhile stay for its own recovery). Deleting is always
 * safe for a cache: the cost is a miss.
 *
 * Recovery runs alone: it waits for calls already running on the fallback, and calls made while
 * it runs wait for it and then go to the primary, so no write is journaled and then lost. A
 * pattern delete on the fallback (a user's `clear()`) never removes the journal.
 *
 * Give the fallback a store of its own (its own SQL table).
 */
export class FallbackStore implements StoreCore, StoreExtras {
  readonly name: string
  readonly capabilities: StoreCapabilities
  readonly #primary: CompleteStore
  readonly #fallback: CompleteStore
  readonly #clock: Clock
  readonly #release: () => Promise<void>
  #onFallback = false
  #nextProbe = 0
  #recovering: Promise<void> | undefined
  /** Calls running on the fallback: recovery waits for them. */
  readonly #onFallbackNow = new Set<Promise<unknown>>()
  #outages = 0
  /** Calls served by the fallback (degraded answers). */
  #fallbackCalls = 0

  constructor(primary: CompleteStore, fallback: CompleteStore, options: FallbackOptions) {
    if (primary.capabilities.valueKind !== fallback.capabilities.valueKind) {
      throw new InvalidOptionError(
        `The fallback must keep the same kind of values as the primary (${primary.name} keeps ${primary.capabilities.valueKind}, ${fallback.name} keeps ${fallback.capabilities.valueKind}): use a SQL store behind Redis`,
      )
    }
    this.#primary = primary
    this.#fallback = fallback
    this.#clock = options.clock
    this.#release = options.release
    this.name = `${primary.name} with fallback ${fallback.name}`
    this.capabilities = {
      ...primary.capabilities,
      tags: primary.capabilities.tags && fallback.capabilities.tags,
    }
  }

  /** True while calls go to the fallback. */
  get onFallback(): boolean {
    return this.#onFallback
  }

  get(key: string): Promise<unknown> {
    return this.#route((s) => s.get(key))
  }

  getEntry(key: string): Promise<StoreEntry | undefined> {
    return this.#route((s) => s.getEntry(key))
  }

  has(key: string): Promise<boolean> {
    return this.#route((s) => s.has(key))
  }

  set(key: string, value: unknown, options: StoreWriteOptions): Promise<void> {
    return this.#route((s) => s.set(key, value, options), { keys: [key] })
  }

  add(key: string, value: unknown, options: StoreWriteOptions): Promise<boolean> {
    return this.#route((s) => s.add(key, value, options), { keys: [key] })
  }

  getMany(keys: readonly string[]): Promise<readonly unknown[]> {
    return this.#route((s) => s.getMany(keys))
  }

  setMany(writes: readonly StoreWrite[]): Promise<void> {
    return this.#route((s) => s.setMany(writes), { keys: writes.map((w) => w.key) })
  }

  delete(key: string): Promise<boolean> {
    return this.#route((s) => s.delete(key), { keys: [key] })
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#route((s) => s.deleteMany(keys), { keys })
  }

  incr(key: string, delta: number, options: StoreWriteOptions): Promise<number> {
    return this.#route((s) => s.incr(key, delta, options), { keys: [key] })
  }

  touch(key: string, ttl: number | null): Promise<boolean> {
    return this.#route((s) => s.touch(key, ttl), { keys: [key] })
  }

  ttl(key: string): Promise<number | null | undefined> {
    return this.#route((s) => s.ttl(key))
  }

  async *keys(pattern: string): AsyncGenerator<string> {
    if (this.#recovering) await this.#recovering.catch(() => {})
    const store = (await this.#current()) ?? this.#fallback
    for await (const key of store.keys(pattern)) if (!key.startsWith(JOURNAL)) yield key
  }

  deletePattern(pattern: string): Promise<number> {
    return this.#route(
      (s) => (s === this.#fallback ? this.#deleteKeepingJournal(pattern) : s.deletePattern(pattern)),
      { patterns: [pattern] },
    )
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#route((s) => s.deleteByTag(tag), { tags: [tag] })
  }

  expireByTag(tag: string, staleAt: number): Promise<number> {
    // Journaled like a tag delete: when the primary is back its entries of the tag simply go.
    return this.#route((s) => s.expireByTag(tag, staleAt), { tags: [tag] })
  }

  /** The primary's figures, with how many outages sent calls to the fallback, and how many calls it served. */
  stats(): StoreStats & {
    readonly outages: number
    readonly onFallback: boolean
    readonly fallbackCalls: number
  } {
    return {
      ...this.#primary.stats(),
      outages: this.#outages,
      onFallback: this.#onFallback,
      fallbackCalls: this.#fallbackCalls,
    }
  }

  /**
   * Ready when the fallback is: calls are served from it while the primary is still connecting or
   * down, so an outage of the primary at startup does not hold the app back.
   */
  async ready(): Promise<void> {
    await this.#fallback.ready?.()
  }

  close(): Promise<void> {
    return this.#release()
  }

  /**
   * Runs `op` on the primary, or on the fallback (journaling what it touches) when the primary is
   * out; never on the fallback while a recovery runs.
   */
  async #route<T>(op: (store: CompleteStore) => T | Promise<T>, touches?: Touches): Promise<T> {
    for (;;) {
      if (this.#recovering) await this.#recovering.catch(() => {})
      const primary = await this.#current()
      if (primary) {
        try {
          return await op(primary)
        } catch (error) {
          if (!isUnavailable(error)) throw error
          this.#enterFallback(error)
        }
      }
      // Checked and registered in one step: a recovery starting later waits for this call.
      if (this.#recovering) continue
      this.#fallbackCalls++
      publishDegraded({ source: 'fallback', kind: 'fallback-call', operation: touches ? 'write' : 'read' })
      const work = (async () => {
        if (touches) await this.#journal(touches)
        return op(this.#fallback)
      })()
      this.#onFallbackNow.add(work)
      const done = () => this.#onFallbackNow.delete(work)
      work.then(done, done)
      return work
    }
  }

  /** A pattern delete on the fallback that leaves the journal alone. */
  async #deleteKeepingJournal(pattern: string): Promise<number> {
    let deleted = 0
    let batch: string[] = []
    const flush = async () => {
      if (batch.length > 0) deleted += await this.#fallback.deleteMany(batch)
      batch = []
    }
    for await (const key of this.#fallback.keys(pattern)) {
      if (key.startsWith(JOURNAL)) continue
      batch.push(key)
      if (batch.length >= 500) await flush()
    }
    await flush()
    return deleted
  }

  /** The primary if calls should go to it now (recovering from an outage first if it just ended). */
  async #current(): Promise<CompleteStore | undefined> {
    if (!this.#onFallback) {
      if (this.#primaryAvailable() === false) this.#enterFallback(new Error('circuit open'))
      else return this.#primary
    }
    if (!(await this.#primaryBack())) return undefined
    this.#recovering ??= this.#recover().finally(() => {
      this.#recovering = undefined
    })
    await this.#recovering
    return this.#onFallback ? undefined : this.#primary
  }

  #primaryAvailable(): boolean | undefined {
    return this.#primary.available?.()
  }

  /** Whether to try the primary again: not before a probe interval has passed, then if it says so. */
  async #primaryBack(): Promise<boolean> {
    const now = this.#clock.now()
    if (now < this.#nextProbe) return false
    this.#nextProbe = now + PROBE_EVERY
    const available = this.#primaryAvailable()
    if (available !== undefined) return available
    try {
      await this.#primary.has(`${JOURNAL}probe`)
      return true
    } catch {
      return false
    }
  }

  #enterFallback(cause: unknown): void {
    if (this.#onFallback) return
    this.#onFallback = true
    this.#outages++
    this.#nextProbe = this.#clock.now() + PROBE_EVERY
    if (channel.error.hasSubscribers) {
      channel.error.publish({ type: 'error', prefix: '', namespace: '', operation: 'fallback', error: cause })
    }
  }

  /**
   * Applies the outage's journal to the primary as deletes, then removes from the fallback the
   * marks it applied and the values they stand for. Runs alone (see {@link FallbackStore}).
   */
  async #recover(): Promise<void> {
    try {
      while (this.#onFallbackNow.size > 0) await Promise.allSettled([...this.#onFallbackNow])
      const marks: string[] = []
      const keys: string[] = []
      for await (const entry of this.#fallback.keys(`${JOURNAL}*`)) {
        const rest = entry.slice(JOURNAL.length)
        const what = rest.slice(2)
        if (rest.startsWith(KIND.key)) keys.push(what)
        else if (rest.startsWith(KIND.pattern)) await this.#primary.deletePattern(what)
        else if (rest.startsWith(KIND.tag) && this.#primary.capabilities.tags)
          await this.#primary.deleteByTag(what)
        marks.push(entry)
      }
      for (let i = 0; i < keys.length; i += 500) await this.#primary.deleteMany(keys.slice(i, i + 500))
      const applied = [...keys, ...marks]
      for (let i = 0; i < applied.length; i += 500) await this.#fallback.deleteMany(applied.slice(i, i + 500))
      this.#onFallback = false
    } catch (error) {
      // Still out (or the fallback failed): stay on the fallback and try again later.
      if (!isUnavailable(error)) throw error
      this.#nextProbe = this.#clock.now() + PROBE_EVERY
    }
  }

  async #journal(touches: Touches): Promise<void> {
    const marks: StoreWrite[] = []
    const mark = (kind: string, what: string) =>
      marks.push({ key: JOURNAL + kind + what, value: MARK, ttl: null })
    for (const key of touches.keys ?? []) mark(KIND.key, key)
    for (const pattern of touches.patterns ?? []) mark(KIND.pattern, pattern)
    for (const tag of touches.tags ?? []) mark(KIND.tag, tag)
    await this.#fallback.setMany(marks)
  }
}

interface Touches {
  readonly keys?: readonly string[]
  readonly patterns?: readonly string[]
  readonly tags?: readonly string[]
}

/** A journal mark's value: the digit 1, readable by every store and codec. */
const MARK = Buffer.from('1')

function isUnavailable(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'E_STORE_UNAVAILABLE'
}
