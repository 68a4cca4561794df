import type { Connection } from './connect.js'
import { describeError } from './output.js'

/** One finding of `check`. `error` makes the exit code 3; `warn` does too with `--strict`. */
export interface Finding {
  readonly name: string
  readonly status: 'ok' | 'warn' | 'error'
  /** What was found, for a person. */
  readonly detail: string
  /** What to do about a warning or an error. */
  readonly fix?: string
}

/** Runs one probe; a probe that throws becomes an error finding carrying its (scrubbed) message. */
export async function probe(
  findings: Finding[],
  name: string,
  scrub: (text: string) => string,
  work: () => Promise<Finding | readonly Finding[]>,
): Promise<void> {
  try {
    const found = await work()
    findings.push(...(Array.isArray(found) ? found : [found as Finding]))
  } catch (error) {
    findings.push({ name, status: 'error', detail: describeError(error, scrub).message })
  }
}

/** Round-trips a value under the cache's prefix: proves the credentials may write, read and delete. */
export async function writeProbe(connection: Connection): Promise<Finding> {
  const key = `cachekit-check:${process.pid}:${Date.now()}`
  const value = { at: new Date(), n: 42n }
  await connection.cache.set(key, value, { ttl: '30s' })
  const back = (await connection.cache.get(key)) as typeof value | undefined
  await connection.cache.delete(key)
  const ok = back?.at instanceof Date && back.n === 42n
  return ok
    ? {
        name: 'read/write',
        status: 'ok',
        detail: `set, get and delete of ${connection.cache.makeKey(key)} work`,
      }
    : { name: 'read/write', status: 'error', detail: 'a value written could not be read back' }
}

/** A rule of {@link grade}: when `failed`, the finding has this status and fix. */
export type Grade = readonly [failed: boolean, status: 'warn' | 'error', fix: string]

/** The finding of the first grade that failed (list errors before warnings), else `ok`. */
export function grade(name: string, detail: string, grades: readonly Grade[]): Finding {
  const failed = grades.find(([f]) => f)
  return failed ? { name, status: failed[1], detail, fix: failed[2] } : { name, status: 'ok', detail }
}
