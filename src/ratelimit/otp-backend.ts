import type { Clock } from '../internal/index.js'
import { type ScriptRunner, type StateMap, script } from './backend.js'

/** A stored code: its hash (hex), salt (hex, '' with a secret), wrong tries, issue time, nonce. */
export interface OtpRecord {
  readonly hash: string
  readonly salt: string
  readonly attempts: number
  readonly issuedAt: number
  readonly nonce: string
}

/** What a verify settles to once the candidate has been compared. */
export type OtpSettle = 'accepted' | 'rejected' | 'gone'

export interface OtpBackend {
  /** Stores a new code unless the previous one is younger than `cooldownMs`; returns the wait (0 = stored). */
  issue(
    key: string,
    record: Omit<OtpRecord, 'attempts' | 'issuedAt'>,
    ttlMs: number,
    cooldownMs: number,
  ): Promise<number>
  read(key: string): Promise<OtpRecord | undefined>
  /**
   * Atomically, if the record still has `nonce` and fewer than `maxAttempts` wrong tries: a match
   * deletes it (single use), a miss counts a wrong try.
   */
  settle(key: string, nonce: string, matched: boolean, maxAttempts: number): Promise<OtpSettle>
  revoke(key: string): Promise<void>
}

export class MemoryOtpBackend implements OtpBackend {
  constructor(
    readonly map: StateMap,
    readonly clock: Clock,
  ) {}

  async issue(
    key: string,
    record: Omit<OtpRecord, 'attempts' | 'issuedAt'>,
    ttlMs: number,
    cooldownMs: number,
  ) {
    const now = Math.floor(this.clock.now())
    const old = this.map.get(key) as (OtpRecord & { expiresAt: number }) | undefined
    if (old !== undefined && now - old.issuedAt < cooldownMs) return cooldownMs - (now - old.issuedAt)
    this.map.set(key, { ...record, attempts: 0, issuedAt: now, expiresAt: now + ttlMs }, ttlMs)
    return 0
  }

  async read(key: string): Promise<OtpRecord | undefined> {
    return this.readNow(key)
  }

  readNow(key: string): OtpRecord | undefined {
    const record = this.map.get(key) as (OtpRecord & { expiresAt: number }) | undefined
    // Checked here as well as by the store's TTL, so the code dies exactly `ttl` after issue.
    return record !== undefined && record.expiresAt > Math.floor(this.clock.now()) ? record : undefined
  }

  async settle(key: string, nonce: string, matched: boolean, maxAttempts: number): Promise<OtpSettle> {
    return this.settleNow(key, nonce, matched, maxAttempts)
  }

  settleNow(key: string, nonce: string, matched: boolean, maxAttempts: number): OtpSettle {
    const record = this.map.get(key) as (OtpRecord & { expiresAt: number }) | undefined
    const now = Math.floor(this.clock.now())
    if (
      record === undefined ||
      record.expiresAt <= now ||
      record.nonce !== nonce ||
      record.attempts >= maxAttempts
    ) {
      return 'gone'
    }
    if (matched) {
      this.map.delete(key)
      return 'accepted'
    }
    const left = record.expiresAt - now
    if (left > 0) this.map.set(key, { ...record, attempts: record.attempts + 1 }, left)
    return 'rejected'
  }

  async revoke(key: string): Promise<void> {
    this.map.delete(key)
  }
}

const ISSUE = script(
  'cachekit-otp-issue',
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cooldown = tonumber(ARGV[5])
local at = tonumber(redis.call('HGET', KEYS[1], 'i'))
if at and now - at < cooldown then return cooldown - (now - at) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 's', ARGV[2], 'n', ARGV[3], 'a', 0, 'i', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0`,
)

const READ = script('cachekit-otp-read', `return redis.call('HMGET', KEYS[1], 'h', 's', 'a', 'i', 'n')`)

const SETTLE = script(
  'cachekit-otp-settle',
  `local v = redis.call('HMGET', KEYS[1], 'n', 'a')
if not v[1] or v[1] ~= ARGV[1] or tonumber(v[2]) >= tonumber(ARGV[3]) then return 0 end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('HINCRBY', KEYS[1], 'a', 1)
return 2`,
)

const REVOKE = script('cachekit-otp-revoke', `return redis.call('DEL', KEYS[1])`)

const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : undefined)

export class RedisOtpBackend implements OtpBackend {
  constructor(readonly runner: ScriptRunner) {}

  async issue(
    key: string,
    record: Omit<OtpRecord, 'attempts' | 'issuedAt'>,
    ttlMs: number,
    cooldownMs: number,
  ) {
    const args = [record.hash, record.salt, record.nonce, Math.max(1, ttlMs), cooldownMs]
    return Number(await this.runner.run(ISSUE, [key], args))
  }

  async read(key: string): Promise<OtpRecord | undefined> {
    const reply = await this.runner.run(READ, [key], [])
    if (!Array.isArray(reply)) return undefined
    const [hash, salt, attempts, issuedAt, nonce] = reply.map(text)
    if (hash === undefined || nonce === undefined) return undefined
    return { hash, salt: salt ?? '', attempts: Number(attempts), issuedAt: Number(issuedAt), nonce }
  }

  async settle(key: string, nonce: string, matched: boolean, maxAttempts: number): Promise<OtpSettle> {
    const reply = Number(await this.runner.run(SETTLE, [key], [nonce, matched ? 1 : 0, maxAttempts]))
    return reply === 1 ? 'accepted' : reply === 2 ? 'rejected' : 'gone'
  }

  async revoke(key: string): Promise<void> {
    await this.runner.run(REVOKE, [key], [])
  }
}
