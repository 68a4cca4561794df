import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  distanceMetres,
  type GeoHit,
  type GeoIndex,
  geoIndex,
  InvalidCoordinatesError,
} from '../../src/geo/index.js'
import { InvalidKeyError, InvalidOptionError, memoryStore } from '../../src/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { redisAvailable, useRedisServer } from '../support/redis.js'

const PLACES: [string, { lon: number; lat: number }][] = [
  ['brandenburger-tor', { lon: 13.377704, lat: 52.516275 }],
  ['alexanderplatz', { lon: 13.413215, lat: 52.521918 }],
  ['potsdam', { lon: 13.064473, lat: 52.390569 }],
  ['hamburg', { lon: 9.993682, lat: 53.551086 }],
  ['munich', { lon: 11.581981, lat: 48.135125 }],
]

async function fixedSet(index: GeoIndex) {
  await index.clear()
  await index.addMany(PLACES)
  const near = await index.near({ lon: 13.4, lat: 52.52 }, 30, { unit: 'km' })
  const limited = await index.near({ lon: 13.4, lat: 52.52 }, 1000, { unit: 'km', limit: 2 })
  const moved = await index.move('potsdam', { lon: 13.39, lat: 52.51 })
  const unknown = await index.move('nowhere', { lon: 0, lat: 0 })
  const after = await index.near({ lon: 13.4, lat: 52.52 }, 5000, { unit: 'm' })
  const removed = [await index.remove('alexanderplatz'), await index.remove('alexanderplatz')]
  return {
    near,
    limited,
    moved,
    unknown,
    after,
    removed,
    size: await index.size(),
    got: await index.get('munich'),
  }
}

describe('geo index over memory', () => {
  it('adds, moves, removes and finds points nearest first', async () => {
    const r = await fixedSet(geoIndex('fixed', { store: memoryStore() }))
    expect(r.near.map((h) => h.id)).toEqual(['alexanderplatz', 'brandenburger-tor', 'potsdam'])
    expect(r.near[0]?.distance).toBeCloseTo(
      distanceMetres({ lon: 13.4, lat: 52.52 }, PLACES[1]![1]) / 1000,
      2,
    )
    expect(r.limited.map((h) => h.id)).toEqual(['alexanderplatz', 'brandenburger-tor'])
    expect([r.moved, r.unknown, r.removed, r.size]).toEqual([true, false, [true, false], 4])
    expect(r.after.map((h) => h.id)).toEqual(['alexanderplatz', 'potsdam', 'brandenburger-tor'])
    expect(r.got?.lon).toBeCloseTo(11.581981, 5)
  })

  it('rejects bad input with typed errors', async () => {
    const index = geoIndex('bad', { store: memoryStore() })
    await expect(index.add('a', { lon: 181, lat: 0 })).rejects.toBeInstanceOf(InvalidCoordinatesError)
    await expect(index.add('a', { lon: 0, lat: 86 })).rejects.toBeInstanceOf(InvalidCoordinatesError)
    await expect(index.add('a', { lon: Number.NaN, lat: 0 })).rejects.toBeInstanceOf(InvalidCoordinatesError)
    await expect(index.add('', { lon: 0, lat: 0 })).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(index.near({ lon: 0, lat: 0 }, -1)).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(index.near({ lon: 0, lat: 0 }, 1, { limit: 0 })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(index.near({ lon: 0, lat: 0 }, 1, { unit: 'yd' as 'm' })).rejects.toBeInstanceOf(
      InvalidOptionError,
    )
    expect(() => geoIndex('x', { store: {} })).toThrow(InvalidOptionError)
    expect(await index.size()).toBe(0)
  })
})

/**
 * Memory and Redis agree when both lists are sorted and every id in one but not the other lies at
 * the cut-off (the radius, or the last distance of a limited list) within `tolerance`, since Redis's
 * 52-bit cells and float rounding may put a point on either side of it.
 */
function agree(memory: GeoHit[], redis: GeoHit[], cutoff: number, tolerance: number): string | undefined {
  for (const list of [memory, redis]) {
    for (let i = 1; i < list.length; i++) {
      if ((list[i]?.distance ?? 0) < (list[i - 1]?.distance ?? 0)) return 'not sorted'
    }
  }
  const m = new Map(memory.map((h) => [h.id, h]))
  const r = new Map(redis.map((h) => [h.id, h]))
  for (const [id, hit] of m) {
    const other = r.get(id)
    if (other === undefined) {
      if (Math.abs(hit.distance - cutoff) > tolerance) return `${id} only in memory at ${hit.distance}`
      continue
    }
    if (Math.abs(other.distance - hit.distance) > tolerance)
      return `${id}: ${hit.distance} vs ${other.distance}`
    if (Math.abs(other.lon - hit.lon) > 1e-9 || Math.abs(other.lat - hit.lat) > 1e-9)
      return `${id}: coordinates differ`
  }
  for (const [id, hit] of r) {
    if (!m.has(id) && Math.abs(hit.distance - cutoff) > tolerance)
      return `${id} only in Redis at ${hit.distance}`
  }
  return undefined
}

describe.skipIf(!redisAvailable())('geo index over Redis', () => {
  const server = useRedisServer()
  let store: RedisStore
  beforeAll(async () => {
    store = redisStore({ url: server.url, timeout: 2000 })
  })
  afterAll(async () => {
    await store?.close()
  })

  it('gives the same answers as memory on a fixed data set', async () => {
    const redis = await fixedSet(geoIndex('fixed', { store }))
    const memory = await fixedSet(geoIndex('fixed', { store: memoryStore() }))
    expect(redis).toEqual(memory)
    expect(server.cli('TYPE', 'cachekit:geo:{fixed}')).toBe('zset')
  })

  it('property: memory and Redis agree on random data sets', async () => {
    // Integer-derived, so values spread evenly (fast-check leans towards edges and small values otherwise).
    const point = fc.record({
      lon: fc.noBias(fc.integer({ min: 0, max: 8_000_000 })).map((n) => 13 + n / 1e7),
      lat: fc.noBias(fc.integer({ min: 0, max: 4_000_000 })).map((n) => 52.3 + n / 1e7),
    })
    let run = 0
    let compared = 0
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), point), {
          minLength: 10,
          maxLength: 80,
          size: 'max',
          selector: ([id]) => id,
        }),
        point,
        fc.oneof(
          { arbitrary: fc.constant(0), weight: 1 },
          { arbitrary: fc.noBias(fc.integer({ min: 1, max: 40_000 })).map((m) => m / 1000), weight: 9 },
        ),
        fc.constantFrom('m', 'km', 'mi', 'ft') as fc.Arbitrary<'m' | 'km' | 'mi' | 'ft'>,
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        async (points, center, km, unit, limit) => {
          const name = `prop-${run++}`
          const onRedis = geoIndex(name, { store })
          const inMemory = geoIndex(name, { store: memoryStore() })
          await Promise.all([onRedis.addMany(points), inMemory.addMany(points)])
          const factor = { m: 1000, km: 1, mi: 1 / 1.60934, ft: 1000 / 0.3048 }[unit]
          const radius = km * factor
          const options = limit === undefined ? { unit } : { unit, limit }
          const [r, m] = await Promise.all([
            onRedis.near(center, radius, options),
            inMemory.near(center, radius, options),
          ])
          await onRedis.clear()
          compared += r.length
          const full = limit === undefined || m.length < limit
          const cutoff = full ? radius : (m[m.length - 1]?.distance ?? radius)
          // 1 m in the unit asked for, plus the 4-decimal rounding of replies.
          const tolerance = factor / 1000 + 0.0002
          const problem = agree(m, r, cutoff, tolerance)
          expect(problem).toBeUndefined()
          if (!full) expect(r).toHaveLength(m.length)
        },
      ),
      { numRuns: 100 },
    )
    expect(compared).toBeGreaterThan(200) // the property saw real hits, not empty answers
    expect(Number(server.cli('DBSIZE'))).toBe(1) // only the fixed set's key is left
  }, 60_000)
})
