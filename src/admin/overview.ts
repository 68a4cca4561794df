import type { Cache, CacheStats } from '../cache/index.js'
import { redactSecrets } from '../internal/index.js'
import type { RedisInspection } from '../stores/redis/index.js'
import { bytes, esc, href, layout, num, type PageContext, percent } from './html.js'
import type { ResolvedAdminOptions } from './options.js'
import { countPrefixes, type PrefixCounts, type RedisLike, redisOf } from './redis-info.js'
import { type Sampler, sparkline } from './sampler.js'

/** Prefix counts are a scan: reuse one this long while the database size stays the same. */
const PREFIX_CACHE_MS = 30_000

/** Redis figures for the overview, with the prefix scan remembered between refreshes. */
export class RedisFigures {
  readonly #prefixes = new WeakMap<RedisLike, { at: number; dbSize: number; counts: Promise<PrefixCounts> }>()

  constructor(private readonly options: ResolvedAdminOptions) {}

  /** The distinct Redis stores under the caches, with the names of the caches on each. */
  stores(): Map<RedisLike, string[]> {
    const found = new Map<RedisLike, string[]>()
    for (const [name, cache] of this.options.caches) {
      const redis = redisOf(cache)
      if (redis) found.set(redis, [...(found.get(redis) ?? []), name])
    }
    return found
  }

  prefixes(store: RedisLike, dbSize: number): Promise<PrefixCounts> {
    const known = this.#prefixes.get(store)
    if (known && known.dbSize === dbSize && Date.now() - known.at < PREFIX_CACHE_MS) return known.counts
    const counts = countPrefixes(store, dbSize, this.options.prefixScanLimit, 2)
    this.#prefixes.set(store, { at: Date.now(), dbSize, counts })
    counts.catch(() => this.#prefixes.delete(store))
    return counts
  }
}

export async function overviewPage(
  page: PageContext,
  options: ResolvedAdminOptions,
  sampler: Sampler,
  redis: RedisFigures,
): Promise<string> {
  // The sampler alone takes readings, at its own interval: readings taken on page views would sit
  // milliseconds apart and turn the ops/s line into noise.
  const sections: string[] = []
  for (const [name, cache] of options.caches) sections.push(cacheSection(page, name, cache, sampler))
  for (const [store, names] of redis.stores()) sections.push(await redisSection(store, names, redis))
  const live = `<p><label class="inline"><span><input type="checkbox" id="live" data-interval="${Math.max(1000, options.sampleIntervalMs)}" checked> Refresh live</span></label></p>`
  return layout(page, '/', 'Overview', `${live}<div id="figures">${sections.join('\n')}</div>`)
}

function figure(label: string, value: string, id?: string): string {
  return `<div><dt>${esc(label)}</dt><dd${id ? ` data-figure="${esc(id)}"` : ''}>${value}</dd></div>`
}

function cacheSection(page: PageContext, name: string, cache: Cache, sampler: Sampler): string {
  let stats: CacheStats
  try {
    stats = cache.stats()
  } catch (error) {
    return `<section class="card"><h2>${esc(name)}</h2><p class="warning">${esc(message(error))}</p></section>`
  }
  const store = stats.store as CacheStats['store'] & { readonly l2?: unknown }
  const memoryLabel = store.l2 === undefined ? 'in memory' : 'in L1'
  const figures = [
    figure('Hits', num(stats.hits), `${name}.hits`),
    figure('Misses', num(stats.misses), `${name}.misses`),
    figure('Hit rate', percent(stats.hitRate), `${name}.hitRate`),
    figure('Sets', num(stats.sets)),
    figure('Deletes', num(stats.deletes)),
    figure('Errors', num(stats.errors), `${name}.errors`),
    figure('Evictions', num(stats.evictions)),
  ]
  if (store.entries !== undefined) figures.push(figure(`Entries ${memoryLabel}`, num(store.entries)))
  if (store.bytes !== undefined) figures.push(figure(`Bytes ${memoryLabel}`, bytes(store.bytes)))
  const namespaces = Object.entries(stats.namespaces)
  const table =
    namespaces.length === 0
      ? ''
      : `<h3>Namespaces</h3><table><thead><tr><th>Namespace</th><th>Hits</th><th>Misses</th><th>Hit rate</th><th class="opt">Sets</th><th>Errors</th></tr></thead><tbody>${namespaces
          .map(
            ([ns, s]) =>
              `<tr><td class="key">${esc(ns)}</td><td>${num(s.hits)}</td><td>${num(s.misses)}</td><td>${percent(s.hitRate)}</td><td class="opt">${num(s.sets)}</td><td>${num(s.errors)}</td></tr>`,
          )
          .join('')}</tbody></table>`
  return `<section class="card" data-cache="${esc(name)}">
<h2>Cache ${esc(name)} <span class="muted">${esc(cache.store.name)}</span></h2>
<dl class="figures">${figures.join('')}</dl>
<h3>Operations per second</h3>
${sparkline(sampler.rates(name), `Operations per second of ${name}`)}
${table}
<p><a href="${href(page.base, '/keys', { cache: name })}">Browse keys of ${esc(name)}</a></p>
</section>`
}

async function redisSection(
  store: RedisLike,
  names: readonly string[],
  redis: RedisFigures,
): Promise<string> {
  let info: RedisInspection
  try {
    info = await store.inspect()
  } catch (error) {
    return `<section class="card"><h2>Redis</h2><p class="warning">Redis did not answer INFO: ${esc(message(error))}</p></section>`
  }
  const warnings: string[] = []
  if (info.maxmemory === 0) warnings.push('maxmemory is not set: Redis grows until the machine runs out.')
  if (info.maxmemoryPolicy === 'noeviction') {
    warnings.push(
      'maxmemory-policy is noeviction: writes fail when memory is full (allkeys-lru suits a cache).',
    )
  }
  const figures = [
    figure('Version', esc(info.redisVersion)),
    figure('Topology', esc(`${info.topology}${info.nodes > 1 ? ` (${info.nodes} masters)` : ''}`)),
    figure('Memory used', esc(info.usedMemoryHuman)),
    figure('maxmemory', info.maxmemory === 0 ? 'no limit' : esc(info.maxmemoryHuman)),
    figure('Eviction policy', esc(info.maxmemoryPolicy)),
    figure('Clients', num(info.connectedClients), 'redis.clients'),
    figure('Keys', num(info.dbSize), 'redis.keys'),
    figure('Keyspace hit rate', percent(info.hitRate)),
    figure('Evicted keys', num(info.evictedKeys)),
  ]
  let prefixes = ''
  try {
    const counts = await redis.prefixes(store, info.dbSize)
    const note = counts.sampled
      ? `sampled: ${num(counts.scanned)} of ${num(counts.total)} keys scanned, counts scaled`
      : `all ${num(counts.scanned)} keys counted`
    prefixes = `<h3>Keys per prefix <span class="muted" data-sampled="${counts.sampled}">(${esc(note)})</span></h3>
<table><thead><tr><th>Prefix</th><th>Keys</th></tr></thead><tbody>${counts.counts
      .slice(0, 30)
      .map(
        (c) =>
          `<tr><td class="key">${esc(c.prefix)}</td><td>${counts.sampled ? '≈ ' : ''}${num(c.keys)}</td></tr>`,
      )
      .join('')}</tbody></table>`
  } catch (error) {
    prefixes = `<p class="warning">Keys per prefix: ${esc(message(error))}</p>`
  }
  return `<section class="card" data-redis>
<h2>Redis <span class="muted">used by ${esc(names.join(', '))}</span></h2>
${warnings.map((w) => `<p class="warning">${esc(w)}</p>`).join('')}
<dl class="figures">${figures.join('')}</dl>
${prefixes}
</section>`
}

export function message(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error))
}
