import type { RedisUrlOptions } from './options.js'

const REDIS_SCHEME =
  /^(redis|rediss|valkey|valkeys|redis\+sentinel|rediss\+sentinel|redis\+cluster|rediss\+cluster):\/\//i

/**
 * Redis options from the environment, or `undefined` when none is set. Read in order: `CACHE_URL`
 * (when it is a Redis URL), `REDIS_URL`, `REDIS_LOCATION` (Django's setting name), then
 * `VALKEY_HOST` with `VALKEY_PORT` (default 6379). `extra` is merged in (timeout, onError, ...).
 */
export function redisOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  extra: Omit<RedisUrlOptions, 'url'> = {},
): RedisUrlOptions | undefined {
  const cacheUrl = env['CACHE_URL']?.trim()
  if (cacheUrl && REDIS_SCHEME.test(cacheUrl)) return { ...extra, url: cacheUrl }
  for (const name of ['REDIS_URL', 'REDIS_LOCATION']) {
    const value = env[name]?.trim()
    if (value) return { ...extra, url: value }
  }
  const host = env['VALKEY_HOST']?.trim()
  if (host) {
    const port = env['VALKEY_PORT']?.trim() || '6379'
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    return { ...extra, url: `redis://${bracketed}:${port}` }
  }
  return undefined
}
