import type { RedisUrlOptions } from './options.js'

const REDIS_SCHEME =
  /^(redis|rediss|valkey|valkeys|redis\+sentinel|rediss\+sentinel|redis\+cluster|rediss\+cluster):\/\//i

/**
 * Redis options from the environment, or `undefined` when none is set. Read in order: `CACHE_URL`
 * (when it is a Redis URL), `REDIS_URL`, `REDIS_LOCATION` (Django's setting name), then Sentinel
 * the way django-redis configures it: `REDIS_SENTINELS` (comma-separated `host:port`) with
 * `REDIS_SENTINEL_MASTER` (and optional `REDIS_DB`, `REDIS_PASSWORD`), then `VALKEY_HOST` with
 * `VALKEY_PORT` (default 6379). `extra` is merged in (timeout, onError, ...).
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
  const sentinels = env['REDIS_SENTINELS']?.trim()
  if (sentinels) {
    const master = env['REDIS_SENTINEL_MASTER']?.trim() || 'mymaster'
    const password = env['REDIS_PASSWORD']
    const auth = password ? `:${encodeURIComponent(password)}@` : ''
    const nodes = sentinels
      .split(',')
      .map((node) => node.trim())
      .filter(Boolean)
      .join(',')
    const db = env['REDIS_DB']?.trim()
    return {
      ...extra,
      url: `redis+sentinel://${auth}${nodes}/${encodeURIComponent(master)}${db ? `/${db}` : ''}`,
    }
  }
  const host = env['VALKEY_HOST']?.trim()
  if (host) {
    const port = env['VALKEY_PORT']?.trim() || '6379'
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    return { ...extra, url: `redis://${bracketed}:${port}` }
  }
  return undefined
}
