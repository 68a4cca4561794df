import { CacheError, InvalidOptionError } from '../errors.js'
import { redactSecrets } from '../internal/index.js'

/**
 * Exit codes of `cachekit`, stable for scripts:
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | done |
 * | 1 | error (unreachable store, failed command, key not found, confirmation declined) |
 * | 2 | usage (unknown command or option, bad value, no store configured) |
 * | 3 | `check` found problems |
 * | 130 | interrupted (Ctrl-C); what was done is reported |
 */
export const EXIT = { ok: 0, error: 1, usage: 2, problems: 3, interrupted: 130 } as const

/** What a command produced: the exit code, the `--json` document and the lines for a person. */
export interface Outcome {
  readonly code: number
  readonly json: unknown
  readonly text: readonly string[]
}

/** A mistake in the command line or the configuration: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  readonly code = 'E_USAGE'
}

/** The exit code an error means: 2 for usage and bad options, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError || error instanceof InvalidOptionError ? EXIT.usage : EXIT.error
}

/** An error as `{ code, message }`, its message scrubbed of passwords. */
export function describeError(
  error: unknown,
  scrub: (text: string) => string = redactSecrets,
): { code: string; message: string } {
  const code =
    error instanceof CacheError || error instanceof UsageError
      ? error.code
      : typeof (error as { code?: unknown })?.code === 'string'
        ? String((error as { code: string }).code)
        : 'E_ERROR'
  const message = error instanceof Error ? error.message : String(error)
  return { code, message: scrub(message) }
}

/**
 * A value as JSON can hold it: `Date` → ISO string, `bigint` → decimal string, `Map` → object (or
 * `[key, value]` pairs when a key is not a string), `Set` → array, bytes → `{ base64 }`,
 * `undefined` → `null`.
 */
export function toJsonSafe(value: unknown, depth = 0): unknown {
  if (depth > 64) return '[too deep]'
  if (value === undefined) return null
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') }
  if (value instanceof Map) {
    const entries = [...value.entries()]
    return entries.every(([k]) => typeof k === 'string')
      ? Object.fromEntries(entries.map(([k, v]) => [k, toJsonSafe(v, depth + 1)]))
      : entries.map(([k, v]) => [toJsonSafe(k, depth + 1), toJsonSafe(v, depth + 1)])
  }
  if (value instanceof Set) return [...value].map((v) => toJsonSafe(v, depth + 1))
  if (Array.isArray(value)) return value.map((v) => toJsonSafe(v, depth + 1))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v, depth + 1)]))
  }
  return value
}

/** A duration in ms for people: `850 ms`, `12.5 s`, `3 min 20 s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`
  const minutes = Math.floor(ms / 60_000)
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`
}
