import { type ScriptRunner, script } from '../stores/redis/index.js'
import { compareIds } from './ids.js'
import { type Queueing, type Retention, Serial, type Transport } from './transport.js'

/**
 * What a channel uses of a Redis store (`RedisStore` has it): its one pub/sub connection through
 * `channel()`, and Lua scripts under its deadline and circuit breaker for the stream.
 */
export interface PubSubStore {
  channel(name: string): {
    /** SPUBLISH/SSUBSCRIBE (Cluster): the publish script then uses SPUBLISH too. */
    readonly sharded?: boolean
    publish(message: string): Promise<void>
    subscribe(
      listener: (message: string) => void,
      status?: { up(): void; down(): void },
    ): Promise<() => Promise<void>>
  }
  scriptRunner(): ScriptRunner
}

/**
 * XADD and PUBLISH in one step, so the stream and the live message never disagree. The message
 * carries the id of the entry before it: a subscriber whose last id differs knows it missed
 * something and reads the gap from the stream. MAXLEN is approximate (cheap); the age bound trims
 * exactly and lets an idle stream expire after the retention. On Cluster the channel is sharded
 * and named like the stream, so SPUBLISH stays in the script's slot.
 * KEYS[1] stream; ARGV[1] pub/sub channel, ARGV[2] payload, ARGV[3] max length or '', ARGV[4] ms or '',
 * ARGV[5] 'PUBLISH' or 'SPUBLISH'.
 */
const PUBLISH = script(
  'channel-publish',
  `local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local id
if ARGV[3] ~= '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'd', ARGV[2])
else
  id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[2])
end
if ARGV[4] ~= '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('XTRIM', KEYS[1], 'MINID', tostring(now - tonumber(ARGV[4])))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
redis.call(ARGV[5], ARGV[1], prev .. ' ' .. id .. ' ' .. ARGV[2])
return id`,
)

/** Entries after ARGV[1] (exclusive), up to ARGV[2] ids, flattened: id, payload, id, payload... */
const RANGE = script(
  'channel-range',
  `local r = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
local out = {}
for _, e in ipairs(r) do
  local f = e[2]
  for i = 1, #f, 2 do
    if f[i] == 'd' then
      out[#out + 1] = e[1]
      out[#out + 1] = f[i + 1]
    end
  end
end
return out`,
)

/** The id of the stream's newest entry, '0-0' for none. */
const TAIL = script(
  'channel-tail',
  `local r = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if r[1] then return r[1][1] end
return '0-0'`,
)

const PAGE = 500
const RETRY_FIRST_MS = 50
const RETRY_MAX_MS = 1000

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code

const text = (reply: unknown): string => (Buffer.isBuffer(reply) ? reply.toString('latin1') : String(reply))

/**
 * Channels over a Redis store. Live delivery is the store's pub/sub (one connection per store,
 * re-subscribed after reconnects). Payloads are the codec's bytes in base64, since the store's
 * pub/sub speaks text. A durable channel also appends every message to a stream (`key`) and
 * catches up from it after a reconnect or a detected gap.
 */
export function redisTransport(
  store: PubSubStore,
  key: string,
  retention: Retention | undefined,
  queueing: Queueing,
): Transport {
  const pubsub = store.channel(key)
  const runner = store.scriptRunner()
  if (retention === undefined) {
    return {
      publish: (bytes) => pubsub.publish(Buffer.from(bytes).toString('base64')).then(() => undefined),
      async subscribe(sink) {
        const serial = new Serial(queueing.maxPending, queueing.name)
        let removed = false
        const stop = await pubsub.subscribe((message) => {
          void serial.run(
            async () => {
              if (!removed) await sink.deliver(Buffer.from(message, 'base64'), undefined)
            },
            (error) => sink.error(error),
          )
        })
        return () => {
          removed = true
          return stop()
        }
      },
    }
  }
  const maxLen = retention.maxLen === undefined ? '' : String(retention.maxLen)
  const age = retention.retentionMs === undefined ? '' : String(retention.retentionMs)
  const command = pubsub.sharded === true ? 'SPUBLISH' : 'PUBLISH'
  return {
    publish: async (bytes) =>
      text(
        await runner.run(PUBLISH, [key], [key, Buffer.from(bytes).toString('base64'), maxLen, age, command]),
      ),
    async subscribe(sink, since) {
      let last = since ?? text(await runner.run(TAIL, [key], []))
      const serial = new Serial(queueing.maxPending, queueing.name)
      let removed = false
      const deliver = async (id: string, payload: string) => {
        if (removed || compareIds(id, last) <= 0) return
        await sink.deliver(Buffer.from(payload, 'base64'), id)
        last = id
      }
      // Reads what came after `last` from the stream: what a reconnect or a gap left out.
      const catchUp = async () => {
        for (;;) {
          const reply = (await runner.run(RANGE, [key], [last, PAGE])) as unknown[]
          for (let i = 0; i + 1 < reply.length; i += 2) await deliver(text(reply[i]), text(reply[i + 1]))
          if (reply.length < PAGE * 2 || removed) return
        }
      }
      // A catch-up that fails because Redis is unreachable (the pub/sub connection often comes
      // back before the command one) is retried with backoff until it succeeds: a reconnect must
      // not leave the gap unread until some later message happens to reveal it.
      let retry: NodeJS.Timeout | undefined
      let delay = RETRY_FIRST_MS
      const onError = (error: unknown) => {
        // Redis unreachable is expected during an outage: retried, not reported. A closed store ends it.
        if (codeOf(error) === 'E_CACHE_CLOSED') return
        if (codeOf(error) !== 'E_STORE_UNAVAILABLE') return sink.error(error)
        if (removed || retry !== undefined) return
        retry = setTimeout(() => {
          retry = undefined
          queueCatchUp()
        }, delay)
        retry.unref()
        delay = Math.min(delay * 2, RETRY_MAX_MS)
      }
      const caughtUp = async () => {
        await catchUp()
        delay = RETRY_FIRST_MS
      }
      // One forced catch-up at most waits in the queue: after a reconnect, or after messages were
      // dropped because the handler fell behind (they are in the stream; it reads them again).
      let catchUpQueued = false
      const queueCatchUp = () => {
        if (catchUpQueued) return
        catchUpQueued = true
        serial.run(
          async () => {
            catchUpQueued = false
            await caughtUp()
          },
          onError,
          true,
        )
      }
      const stop = await pubsub.subscribe(
        (message) => {
          const queued = serial.run(async () => {
            const [prev = '', id = '', payload = ''] = message.split(' ')
            if (compareIds(id, last) <= 0) return
            // A catch-up failure throws before delivering, so `last` stays put and the retry (or
            // the next reconnect or gap) reads this message from the stream again.
            if (prev !== last) await caughtUp()
            await deliver(id, payload)
          }, onError)
          if (!queued) queueCatchUp()
        },
        { up: queueCatchUp, down: () => {} },
      )
      return () => {
        removed = true
        clearTimeout(retry)
        return stop()
      }
    },
  }
}
