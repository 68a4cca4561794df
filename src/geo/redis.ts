import { type ScriptRunner, script } from '../stores/redis/index.js'
import type { GeoPoint } from './math.js'
import type { GeoBackend } from './memory.js'

/** GEOADD of ARGV triples (lon, lat, member). */
const ADD = script('geo-add', `return redis.call('GEOADD', KEYS[1], unpack(ARGV))`)

/** GEOADD only for a member that exists: 1 if moved, 0 if unknown. */
const MOVE = script(
  'geo-move',
  `if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 0 end
redis.call('GEOADD', KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 1`,
)

const REMOVE = script('geo-remove', `return redis.call('ZREM', KEYS[1], ARGV[1])`)

const GET = script(
  'geo-get',
  `local p = redis.call('GEOPOS', KEYS[1], ARGV[1])[1]
if not p then return false end
return p`,
)

/** GEOSEARCH by radius, nearest first; ARGV: lon, lat, radius, unit, count or ''. */
const NEAR = script(
  'geo-near',
  `local args = {'GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], ARGV[4], 'ASC'}
if ARGV[5] ~= '' then
  args[#args + 1] = 'COUNT'
  args[#args + 1] = ARGV[5]
end
args[#args + 1] = 'WITHDIST'
args[#args + 1] = 'WITHCOORD'
return redis.call(unpack(args))`,
)

const SIZE = script('geo-size', `return redis.call('ZCARD', KEYS[1])`)
const CLEAR = script('geo-clear', `return redis.call('DEL', KEYS[1])`)

/** Points per GEOADD: well under Lua's limit on unpacked arguments. */
const BATCH = 1000

/** Stores that run scripts (`RedisStore` does). */
export interface ScriptStore {
  scriptRunner(): ScriptRunner
}

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))

/**
 * An index in one Redis sorted set (GEOADD/GEOSEARCH), so it is Cluster-safe by construction.
 * Commands run as small scripts through the store's script runner, under its deadline and circuit
 * breaker, with the same typed errors as every other call.
 */
export function redisGeo(store: ScriptStore, key: string): GeoBackend {
  const runner = store.scriptRunner()
  return {
    async add(points) {
      for (let i = 0; i < points.length; i += BATCH) {
        const args: (string | number)[] = []
        for (const [id, p] of points.slice(i, i + BATCH)) args.push(p.lon, p.lat, id)
        await runner.run(ADD, [key], args)
      }
    },
    async move(id, p) {
      return Number(await runner.run(MOVE, [key], [p.lon, p.lat, id])) === 1
    },
    async remove(id) {
      return Number(await runner.run(REMOVE, [key], [id])) === 1
    },
    async get(id) {
      const reply = await runner.run(GET, [key], [id])
      if (!Array.isArray(reply)) return undefined
      return { lon: Number(text(reply[0])), lat: Number(text(reply[1])) } satisfies GeoPoint
    },
    async near({ center, radius, unit, limit }) {
      const reply = (await runner.run(
        NEAR,
        [key],
        [center.lon, center.lat, radius, unit, limit ?? ''],
      )) as unknown[]
      return reply.map((item) => {
        const [id, distance, coord] = item as [unknown, unknown, unknown[]]
        return {
          id: text(id),
          distance: Number(text(distance)),
          lon: Number(text(coord[0])),
          lat: Number(text(coord[1])),
        }
      })
    },
    async size() {
      return Number(await runner.run(SIZE, [key], []))
    },
    async clear() {
      await runner.run(CLEAR, [key], [])
    },
  }
}
