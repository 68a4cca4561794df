import { InvalidKeyError, InvalidOptionError } from '../errors.js'
import { backingOf } from '../stores/index.js'
import { checkPoint, checkUnit, type GeoPoint } from './math.js'
import { type GeoBackend, memoryGeo } from './memory.js'
import { redisGeo, type ScriptStore } from './redis.js'
import type { GeoIndex, NearOptions } from './types.js'

/** Options of `createGeoIndex`: the store and the name of the index. */
export interface GeoIndexOptions {
  /** A memory store (one process) or a Redis store (GEO commands, shared). */
  readonly store: object
  /** Prefix of the Redis key. Default `'cachekit:geo:'`. */
  readonly prefix?: string
}

const NAME = /^[^\s{}]{1,200}$/

function checkId(id: unknown): string {
  if (typeof id === 'string' && id.length > 0 && id.length <= 512) return id
  throw new InvalidKeyError(`Geo point id must be a string of 1-512 characters, got ${typeof id}`)
}

/** Runs a body whose checks may throw, as a rejected promise (the library never throws synchronously from async methods). */
function attempt<T>(body: () => Promise<T>): Promise<T> {
  try {
    return body()
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * A geo index named `name` on `store`: add, move and remove points, and find those within a radius
 * of a point, nearest first. On Redis it is one sorted set (`GEOADD`/`GEOSEARCH`); on memory, a
 * scan with Redis's haversine and Redis's stored precision, so both give the same answers.
 */
export function geoIndex(name: string, options: GeoIndexOptions): GeoIndex {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidOptionError('Geo index name must be 1-200 characters without spaces or braces')
  }
  if (typeof options?.store !== 'object' || options.store === null) {
    throw new InvalidOptionError('geoIndex needs a store: geoIndex(name, { store })')
  }
  // Recognised by what the store declares (`BACKING`) or offers, never by class.
  const backing = backingOf(options.store)
  const store = backing?.store ?? options.store
  let backend: GeoBackend
  if (typeof (store as Partial<ScriptStore>).scriptRunner === 'function') {
    // A hash tag keeps the key's slot stable whatever the prefix.
    backend = redisGeo(store as ScriptStore, `${options.prefix ?? 'cachekit:geo:'}{${name}}`)
  } else if (backing?.kind === 'memory') {
    backend = memoryGeo(backing.store, name)
  } else {
    throw new InvalidOptionError('geoIndex store must be a memoryStore() or a redisStore()')
  }
  return {
    name,
    add: (id, point) => attempt(() => backend.add([[checkId(id), checkPoint(point)]])),
    addMany: (points) =>
      attempt(() => {
        const checked: [string, GeoPoint][] = []
        for (const [id, point] of points) checked.push([checkId(id), checkPoint(point, `point of ${id}`)])
        return backend.add(checked)
      }),
    move: (id, point) => attempt(() => backend.move(checkId(id), checkPoint(point))),
    remove: (id) => attempt(() => backend.remove(checkId(id))),
    get: (id) => attempt(() => backend.get(checkId(id))),
    near: (center, radius, nearOptions: NearOptions = {}) =>
      attempt(() => {
        const c = checkPoint(center, 'center')
        if (typeof radius !== 'number' || !Number.isFinite(radius) || radius < 0) {
          throw new InvalidOptionError(`near radius must be a finite number >= 0, got ${String(radius)}`)
        }
        const limit = nearOptions.limit
        if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
          throw new InvalidOptionError(`near limit must be a whole number >= 1, got ${String(limit)}`)
        }
        return backend.near({ center: c, radius, unit: checkUnit(nearOptions.unit ?? 'm'), limit })
      }),
    size: () => backend.size(),
    clear: () => backend.clear(),
  }
}
