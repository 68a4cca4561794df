import { getOrMake } from '../internal/index.js'
import { distanceMetres, type GeoPoint, quantize, UNIT_METRES } from './math.js'
import type { GeoHit, NearQuery } from './types.js'

/** The raw operations of an index, after the checks in geo-index.ts. */
export interface GeoBackend {
  add(points: readonly (readonly [string, GeoPoint])[]): Promise<void>
  move(id: string, point: GeoPoint): Promise<boolean>
  remove(id: string): Promise<boolean>
  get(id: string): Promise<GeoPoint | undefined>
  near(query: NearQuery): Promise<GeoHit[]>
  size(): Promise<number>
  clear(): Promise<void>
}

const indexes = new WeakMap<object, Map<string, Map<string, GeoPoint>>>()

const round4 = (n: number) => Math.round(n * 10_000) / 10_000

/**
 * An in-process index on a memory store: a linear scan with Redis's haversine, which answers
 * "who is near" over tens of thousands of points in milliseconds. Points are stored as Redis would
 * store them, so answers match a Redis index up to floating-point rounding at the radius edge.
 */
export function memoryGeo(store: object, name: string): GeoBackend {
  const map = getOrMake(
    getOrMake(indexes, store, () => new Map()),
    name,
    () => new Map(),
  )
  return {
    async add(entries) {
      for (const [id, point] of entries) map.set(id, quantize(point))
    },
    async move(id, point) {
      if (!map.has(id)) return false
      map.set(id, quantize(point))
      return true
    },
    async remove(id) {
      return map.delete(id)
    },
    async get(id) {
      return map.get(id)
    },
    async near({ center, radius, unit, limit }) {
      const metres = radius * UNIT_METRES[unit]
      const hits: { id: string; metres: number; point: GeoPoint }[] = []
      for (const [id, point] of map) {
        const d = distanceMetres(center, point)
        if (d <= metres) hits.push({ id, metres: d, point })
      }
      hits.sort((a, b) => a.metres - b.metres)
      return hits.slice(0, limit ?? hits.length).map(({ id, metres: d, point }) => ({
        id,
        distance: round4(d / UNIT_METRES[unit]),
        lon: point.lon,
        lat: point.lat,
      }))
    },
    async size() {
      return map.size
    },
    async clear() {
      map.clear()
    },
  }
}
