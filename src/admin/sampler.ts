import type { Cache } from '../cache/index.js'
import { esc } from './html.js'

/** One reading of a cache's counters. */
export interface Sample {
  readonly at: number
  readonly hits: number
  readonly misses: number
  readonly sets: number
  readonly deletes: number
  readonly errors: number
}

/**
 * Records every cache's `stats()` every `intervalMs`, keeping the last `size` readings, so the
 * overview can draw operations per second over the last minutes. Its timer is `unref()`ed: it
 * never keeps the process alive, and `stop()` ends it.
 */
export class Sampler {
  readonly #caches: ReadonlyMap<string, Cache>
  readonly #size: number
  readonly #samples = new Map<string, Sample[]>()
  #timer: NodeJS.Timeout | undefined

  constructor(caches: ReadonlyMap<string, Cache>, intervalMs: number, size: number) {
    this.#caches = caches
    this.#size = size
    this.sample()
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  /** Takes one reading now (a closed cache is skipped). */
  sample(): void {
    const at = Date.now()
    for (const [name, cache] of this.#caches) {
      let s: ReturnType<Cache['stats']>
      try {
        s = cache.stats()
      } catch {
        continue
      }
      const list = this.#samples.get(name) ?? []
      list.push({ at, hits: s.hits, misses: s.misses, sets: s.sets, deletes: s.deletes, errors: s.errors })
      if (list.length > this.#size) list.splice(0, list.length - this.#size)
      this.#samples.set(name, list)
    }
  }

  /** Operations (reads, writes, deletes) per second between consecutive readings. */
  rates(name: string): { readonly at: number; readonly perSecond: number }[] {
    const list = this.#samples.get(name) ?? []
    const out: { at: number; perSecond: number }[] = []
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as Sample
      const b = list[i] as Sample
      const seconds = (b.at - a.at) / 1000
      if (seconds <= 0) continue
      const ops = b.hits + b.misses + b.sets + b.deletes - (a.hits + a.misses + a.sets + a.deletes)
      out.push({ at: b.at, perSecond: Math.max(0, ops) / seconds })
    }
    return out
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }
}

/**
 * A small line chart of a series as inline SVG (markup only: no script, no style attribute, so
 * the page's Content-Security-Policy holds). Returns a note instead while there are < 2 points.
 */
export function sparkline(points: readonly { readonly perSecond: number }[], label: string): string {
  if (points.length < 2) return '<p class="muted">Collecting samples…</p>'
  const width = 300
  const height = 80
  const max = Math.max(1, ...points.map((p) => p.perSecond))
  const step = width / (points.length - 1)
  const coords = points
    .map((p, i) => `${(i * step).toFixed(1)},${(height - 4 - (p.perSecond / max) * (height - 8)).toFixed(1)}`)
    .join(' ')
  const last = points[points.length - 1]?.perSecond ?? 0
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${esc(label)}"><polyline points="${coords}"/></svg>
<p class="muted">Now ${last.toFixed(1)} ops/s · peak ${max.toFixed(1)} ops/s over ${points.length} samples</p>`
}
