import { createHash } from 'node:crypto'

/**
 * A Lua script, sent as EVALSHA; a server that lost its script cache (restart, failover, SCRIPT
 * FLUSH) answers NOSCRIPT, and the script is then sent once with EVAL, which caches it again.
 */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/**
 * Runs Lua scripts in one round trip each. In Cluster, every key of one call must share a hash
 * slot (use a `{hash tag}`). The Redis store provides one under its deadline and circuit breaker;
 * `scriptRunnerFromClient` (cachekit/ratelimit) wraps a raw client.
 */
export interface ScriptRunner {
  run(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>
  /**
   * True when one call may carry keys of different hash slots (the server is not a Cluster), so
   * callers may batch unrelated keys into one script call. Absent or false: one call's keys share a
   * slot. Read at each call (a store learns its topology when it connects).
   */
  readonly anySlot?: boolean | undefined
}

/** A script with its SHA-1, ready for {@link ScriptRunner.run}. */
export function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}
