import { createHmac, randomBytes } from 'node:crypto'
import type { Cache } from '../cache/index.js'
import { InvalidOptionError } from '../errors.js'
import { type Ttl, ttlToMs } from '../internal/index.js'
import { backendFor, type SessionBackend, type SessionWrite, type WriteOutcome } from './backend.js'
import { SessionSecretError } from './errors.js'
import { digest, serialize } from './fields.js'

/** A session's data: top-level fields with JSON values. */
export type SessionData = { [field: string]: unknown }

/**
 * What a request read, kept until it saves: a digest per field, so a save writes only the fields
 * this request changed (see {@link Sessions.save}). Plain JSON, so a framework door can carry it.
 */
export interface SessionSnapshot {
  /** Field → the JSON it had when read, short JSON as is and longer JSON as a digest. */
  readonly fields: { readonly [field: string]: string }
  /** When the record was last written or touched (epoch ms). */
  readonly touchedAt: number
  /** The keyed hash of its user id, if it had one. */
  readonly user?: string | undefined
  /** When its user's index last recorded it as active (epoch ms). */
  readonly indexedAt?: number | undefined
}

/** A session as loaded: its data and the snapshot to save it against. */
export interface LoadedSession {
  readonly data: SessionData
  readonly snapshot: SessionSnapshot
}

/** One session of a user, as {@link Sessions.sessionsOf} lists it. */
export interface UserSession {
  /** The keyed hash of its id (never the id): compare with {@link Sessions.handleOf}. */
  readonly handle: string
  readonly data: SessionData
  /** When it was last written or touched (epoch ms). */
  readonly touchedAt: number
}

/** Options of {@link createSessions}. */
export interface SessionsOptions {
  /** The app's cache (memory or Redis store, or tiers over Redis); sessions use no other connection. */
  readonly cache: Cache
  /**
   * Keys the hash that turns a session id into its store key, so read access to the store (SCAN,
   * an admin page) gives no usable id. At least 32 characters, from configuration. Changing it
   * logs everyone out.
   */
  readonly secret: string
  /** Idle lifetime: a session not written or touched for this long expires. Default `'1d'`. */
  readonly ttl?: Ttl
  /**
   * Rolling expiry is renewed only once this fraction of `ttl` has passed since the last write or
   * touch, so an unchanged session costs no write on most requests. Default `0.1`.
   */
  readonly touchAfter?: number
  /** The user a session belongs to, for {@link Sessions.sessionsOf}. Default: `data.userId`. */
  readonly userId?: (data: SessionData) => string | number | undefined
  /** Key segment under the cache. Default `'session'`. */
  readonly prefix?: string
  /**
   * Fields that change on every request without meaning anything new (the frameworks' `cookie`
   * with its rolling `expires`): a save that changes only these is a throttled touch. Default
   * `['cookie']`.
   */
  readonly volatile?: readonly string[]
}

/** What {@link Sessions.save} and {@link Sessions.touch} did. */
export type SaveOutcome = 'written' | 'touched' | 'skipped' | 'destroyed'

const MIN_SECRET = 32

/**
 * How many recent session ids (and user ids) keep their keyed hash in memory, so the load and the
 * save of one request, and a browser's next requests, compute it once. First in, first out.
 */
const HASHES_KEPT = 1024

/**
 * The session core every framework door uses. A save is a field-level merge against what the
 * request read: it sets the fields whose value changed and removes the fields it deleted, and
 * leaves every other field as the store has it now. So concurrent requests that change different
 * fields all survive; two that change the same field end with the last write. A merge was chosen
 * over compare-and-set because a retry needs the request's handler to run again, which a session
 * store cannot do. Every write checks for a tombstone in the same atomic step, so a session
 * destroyed (logout) stays destroyed whatever late writes arrive, on any instance.
 */
export class Sessions {
  readonly #backend: SessionBackend
  readonly #cache: Cache
  readonly #secret: string
  readonly #prefix: string
  readonly #volatile: ReadonlySet<string>
  readonly #userId: (data: SessionData) => string | number | undefined
  /** Idle lifetime in ms. */
  readonly ttl: number
  readonly #touchAfterMs: number
  /** Session id → its handle, for the last {@link HASHES_KEPT} ids hashed. */
  readonly #handles = new Map<string, string>()
  /** User id → its keyed hash, likewise. */
  readonly #users = new Map<string, string>()

  constructor(options: SessionsOptions) {
    if (typeof options.secret !== 'string' || options.secret.length < MIN_SECRET) {
      throw new SessionSecretError(
        `createSessions needs a secret of at least ${MIN_SECRET} characters (e.g. from an environment variable) to hash session ids`,
      )
    }
    const ttl = ttlToMs(options.ttl ?? '1d')
    if (ttl === null || ttl === 0) throw new InvalidOptionError('sessions need a ttl > 0 (e.g. "1d")')
    const touchAfter = options.touchAfter ?? 0.1
    if (!(touchAfter >= 0 && touchAfter <= 1)) {
      throw new InvalidOptionError(
        `touchAfter is a fraction of the ttl from 0 to 1, got ${String(touchAfter)}`,
      )
    }
    const prefix = options.prefix ?? 'session'
    if (!/^[\w.-]+$/.test(prefix)) {
      throw new InvalidOptionError(
        `session prefix may hold letters, digits, "_", "." and "-", got "${prefix}"`,
      )
    }
    this.#cache = options.cache
    this.#backend = backendFor(options.cache)
    this.#secret = options.secret
    this.#prefix = prefix
    this.#volatile = new Set(options.volatile ?? ['cookie'])
    this.#userId = options.userId ?? ((data) => data['userId'] as string | number | undefined)
    this.ttl = ttl
    this.#touchAfterMs = ttl * touchAfter
  }

  /** A new unguessable session id (256 random bits, base64url). */
  generateId(): string {
    return randomBytes(32).toString('base64url')
  }

  /** The keyed hash that stands for a session id in the store and in {@link UserSession.handle}. */
  handleOf(id: string): string {
    return this.#hashKept(this.#handles, 'session', id)
  }

  /** The session, or `undefined` when it does not exist, expired or was destroyed. */
  async load(id: string): Promise<LoadedSession | undefined> {
    return this.#loadHandle(this.handleOf(checkId(id)))
  }

  /**
   * Saves `data` as a merge against `snapshot` (what this request loaded): only changed and
   * removed fields are written. Without a snapshot (a new or regenerated session) the whole
   * session is written. A save that changes nothing, or only volatile fields, is a throttled
   * {@link Sessions.touch}. Resolves to `'destroyed'`, writing nothing, when the session was
   * destroyed meanwhile.
   */
  async save(id: string, data: SessionData, snapshot?: SessionSnapshot): Promise<SaveOutcome> {
    const handle = this.handleOf(checkId(id))
    const fields = serialize(data)
    const user = this.#userOf(data)
    const key = this.#key(handle)
    const now = Date.now()
    const whole: SessionWrite = { set: fields, remove: [], user, indexed: user !== undefined }
    if (snapshot === undefined) return saved(await this.#write(handle, key, 'create', whole, now, user))
    const set = new Map<string, string>()
    for (const [field, json] of fields) if (snapshot.fields[field] !== digest(json)) set.set(field, json)
    const remove = Object.keys(snapshot.fields).filter((field) => !fields.has(field))
    if (remove.length === 0 && this.#onlyVolatile(set)) {
      return this.#touch(handle, set, snapshot, now)
    }
    // The user is written only when this request changed it (login, logout): a request that read
    // the session before a login elsewhere must not take the user away again.
    const userChanged = user !== snapshot.user
    const indexUser = user !== undefined && (userChanged || this.#indexDue(snapshot, now)) ? user : undefined
    const w: SessionWrite = {
      set,
      remove,
      user: userChanged ? (user ?? null) : undefined,
      indexed: indexUser !== undefined,
    }
    const outcome = await this.#write(handle, key, 'merge', w, now, indexUser)
    if (outcome !== 'missing') return saved(outcome)
    // The record expired since this request read it: write the request's whole view back.
    return saved(await this.#write(handle, key, 'create', whole, now, user))
  }

  /**
   * Renews the session's expiry, once `touchAfter` of the TTL has passed since `snapshot` was
   * written or touched (`'skipped'` before). Never brings back a destroyed or expired session.
   */
  touch(id: string, snapshot: SessionSnapshot, volatile?: SessionData): Promise<SaveOutcome> {
    const handle = this.handleOf(checkId(id))
    const set = new Map<string, string>()
    for (const [field, json] of serialize(volatile ?? {})) if (this.#volatile.has(field)) set.set(field, json)
    return this.#touch(handle, set, snapshot, Date.now())
  }

  /** Destroys the session, leaving a tombstone for one TTL that refuses late writes. */
  async destroy(id: string): Promise<void> {
    await this.#destroyHandle(this.handleOf(checkId(id)))
  }

  /** Every live session of a user, on every instance sharing the store. */
  async sessionsOf(userId: string | number): Promise<UserSession[]> {
    const user = this.#hashKept(this.#users, 'user', String(userId))
    const index = this.#indexKey(user)
    const members = await this.#backend.indexList(index, Date.now(), this.#indexTtl)
    const out: UserSession[] = []
    const gone: string[] = []
    await Promise.all(
      members.map(async (handle) => {
        const found = await this.#loadHandle(handle)
        if (found === undefined || found.snapshot.user !== user) gone.push(handle)
        else out.push({ handle, data: found.data, touchedAt: found.snapshot.touchedAt })
      }),
    )
    await this.#backend.indexRemove(index, gone)
    return out.sort((a, b) => b.touchedAt - a.touchedAt)
  }

  /**
   * Destroys every session of a user ("log out everywhere", after a password change), on every
   * instance, except the one with id `except` (the request's own, to stay logged in there).
   * Resolves to how many it destroyed.
   */
  async destroyUser(userId: string | number, options: { except?: string } = {}): Promise<number> {
    const keep = options.except === undefined ? undefined : this.handleOf(options.except)
    const sessions = (await this.sessionsOf(userId)).filter((s) => s.handle !== keep)
    await Promise.all(sessions.map((s) => this.#destroyHandle(s.handle)))
    return sessions.length
  }

  /** Yields every live session by its handle (ids are not stored, so they cannot be listed). */
  async *all(): AsyncGenerator<{ handle: string; data: SessionData }> {
    const head = `${this.#prefix}:`
    for await (const key of this.#cache.keys(`${head}*`)) {
      const handle = key.slice(head.length)
      const found = await this.#loadHandle(handle)
      if (found !== undefined) yield { handle, data: found.data }
    }
  }

  /** How many live sessions there are (a full scan: for admin pages, not per request). */
  async count(): Promise<number> {
    let n = 0
    for await (const _ of this.all()) n++
    return n
  }

  /**
   * Removes every session, tombstone and user index under this prefix. Requests in flight at that
   * moment may write their session back: call it with the app stopped.
   */
  async clear(): Promise<void> {
    await this.#cache.deletePattern(`${this.#prefix}:*`)
    await this.#cache.deletePattern(`${this.#prefix}-user:*`)
  }

  // -- internals ------------------------------------------------------------------------------

  async #write(
    handle: string,
    key: string,
    mode: 'merge' | 'create',
    w: SessionWrite,
    now: number,
    indexUser: string | undefined,
  ): Promise<WriteOutcome> {
    const write = this.#backend.write(key, mode, w, now, this.ttl)
    if (indexUser === undefined) return write
    // The index entry goes out in the same tick, so it rides the same round trip.
    const [outcome] = await Promise.all([write, this.#index(indexUser, handle, now)])
    return outcome
  }

  #onlyVolatile(set: ReadonlyMap<string, string>): boolean {
    for (const field of set.keys()) if (!this.#volatile.has(field)) return false
    return true
  }

  async #touch(
    handle: string,
    set: ReadonlyMap<string, string>,
    snapshot: SessionSnapshot,
    now: number,
  ): Promise<SaveOutcome> {
    if (now - snapshot.touchedAt < this.#touchAfterMs) return 'skipped'
    const indexed = snapshot.user !== undefined && this.#indexDue(snapshot, now)
    const [outcome] = await Promise.all([
      this.#backend.touch(this.#key(handle), set, indexed, now, this.ttl),
      snapshot.user === undefined || !indexed ? undefined : this.#index(snapshot.user, handle, now),
    ])
    return touchOutcome(outcome)
  }

  #index(user: string, handle: string, now: number): Promise<void> {
    return this.#backend.indexAdd(this.#indexKey(user), handle, now, this.#indexTtl)
  }

  /**
   * The user's index is told of a session's activity at most once per `touchAfter`, not on every
   * write: a live session was active within `ttl`, at most `touchAfter` after its index entry, so an
   * entry older than `ttl + touchAfter` belongs to an expired session.
   */
  #indexDue(snapshot: SessionSnapshot, now: number): boolean {
    return now - (snapshot.indexedAt ?? 0) >= this.#touchAfterMs
  }

  /** How long an index entry stays without news before it is taken for an expired session. */
  get #indexTtl(): number {
    return this.ttl + this.#touchAfterMs
  }

  async #loadHandle(handle: string): Promise<LoadedSession | undefined> {
    const stored = await this.#backend.load(this.#key(handle))
    if (stored === undefined) return undefined
    const data: SessionData = {}
    const fields: { [field: string]: string } = {}
    for (const [field, json] of stored.fields) {
      try {
        data[field] = JSON.parse(json)
        fields[field] = digest(json)
      } catch {
        // A field that is not JSON was not written by cachekit: leave it out rather than fail the request.
      }
    }
    const { touchedAt, user, indexedAt } = stored
    return { data, snapshot: { fields, touchedAt, user, indexedAt } }
  }

  async #destroyHandle(handle: string): Promise<void> {
    const user = await this.#backend.destroy(this.#key(handle), this.ttl)
    if (user !== undefined) await this.#backend.indexRemove(this.#indexKey(user), [handle])
  }

  #userOf(data: SessionData): string | undefined {
    const id = this.#userId(data)
    if (id === undefined || id === null || id === '') return undefined
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new InvalidOptionError(
        `a session's user id must be a string or a number, got ${typeof id}: check the userId option`,
      )
    }
    return this.#hashKept(this.#users, 'user', String(id))
  }

  #key(handle: string): string {
    return this.#cache.makeKey(`${this.#prefix}:${handle}`)
  }

  #indexKey(user: string): string {
    return this.#cache.makeKey(`${this.#prefix}-user:${user}`)
  }

  #hashKept(kept: Map<string, string>, kind: string, value: string): string {
    let hash = kept.get(value)
    if (hash === undefined) {
      hash = this.#hash(kind, value)
      if (kept.size >= HASHES_KEPT) kept.delete(kept.keys().next().value as string)
      kept.set(value, hash)
    }
    return hash
  }

  #hash(kind: string, value: string): string {
    return createHmac('sha256', this.#secret).update(`${kind}\u0000${value}`).digest('base64url')
  }
}

/** Creates the session core over an app's cache; see {@link Sessions}. */
export function createSessions(options: SessionsOptions): Sessions {
  return new Sessions(options)
}

function saved(outcome: WriteOutcome): SaveOutcome {
  return outcome === 'destroyed' ? 'destroyed' : 'written'
}

function touchOutcome(outcome: WriteOutcome): SaveOutcome {
  return outcome === 'written' ? 'touched' : outcome === 'destroyed' ? 'destroyed' : 'skipped'
}

function checkId(id: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) {
    throw new InvalidOptionError('a session id is a non-empty string of at most 512 characters')
  }
  return id
}
