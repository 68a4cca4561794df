/**
 * Typed channels and a geo index, as the staff-scheduling bot uses them: shift updates pushed to
 * browsers over Server-Sent Events (a browser that reconnects gets what it missed), and "which
 * staff are near this site". On Redis with REDIS_URL (every process hears every message), else in
 * memory (one process). Run: REDIS_URL=redis://127.0.0.1:6379/0 npx tsx examples/channels.ts
 */
import type { AddressInfo } from 'node:net'
import { memoryStore } from 'cachekit'
import { channelEvents } from 'cachekit/express'
import { geoIndex } from 'cachekit/geo'
import { channel } from 'cachekit/pubsub'
import { redisOptionsFromEnv, redisStore } from 'cachekit/redis'
import express from 'express'

const options = redisOptionsFromEnv(process.env)
const store = options ? redisStore({ ...options, timeout: 500 }) : memoryStore()
if ('ready' in store) await store.ready()
console.log('store:', store.name)

interface ShiftUpdate {
  shiftId: number
  starts: Date // arrives as a Date, not a string: values go through cachekit's codec
  staff: Set<string>
}

// Durable: the last 10,000 updates, for at most a day, are kept (a Redis Stream) for resumption.
const updates = channel<ShiftUpdate>(`shifts-${process.pid}`, {
  store,
  durable: { maxLen: 10_000, retention: '1d' },
})

const stop = await updates.subscribe((update, { id }) => {
  console.log(
    `subscriber: shift ${update.shiftId} at ${update.starts.toISOString()} (${[...update.staff]}) id ${id}`,
  )
})
// On Redis the subscription goes live just after subscribe() resolves.
await new Promise((resolve) => setTimeout(resolve, 100))

// Serve the channel to browsers: new EventSource('/shifts/events') in the page.
const app = express()
app.get('/shifts/events', channelEvents(updates, { heartbeat: '15s' }))
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/shifts/events`

const first = await updates.publish({
  shiftId: 1,
  starts: new Date('2026-12-01T08:00Z'),
  staff: new Set(['ann']),
})
await updates.publish({ shiftId: 2, starts: new Date('2026-12-01T16:00Z'), staff: new Set(['bob', 'eve']) })

// A browser that saw the first update reconnects with Last-Event-ID and gets the rest.
const controller = new AbortController()
const response = await fetch(url, { headers: { 'last-event-id': first ?? '' }, signal: controller.signal })
const reader = (response.body as ReadableStream<Uint8Array>).getReader()
let text = ''
while (!text.includes('"shiftId":2')) text += new TextDecoder().decode((await reader.read()).value)
console.log(
  'SSE after Last-Event-ID:',
  text.split('\n').filter((line) => line.startsWith('id:') || line.startsWith('data:')),
)
controller.abort()

// Who is near the site? Points at Redis GEO precision; the memory index gives the same answers.
const staff = geoIndex(`staff-${process.pid}`, { store })
await staff.addMany([
  ['ann', { lon: 37.6173, lat: 55.7558 }],
  ['bob', { lon: 37.6205, lat: 55.7539 }],
  ['eve', { lon: 37.7, lat: 55.8 }],
])
await staff.move('eve', { lon: 37.618, lat: 55.757 }) // eve's phone reported a new position
console.log('near the site:', await staff.near({ lon: 37.6176, lat: 55.7556 }, 1, { unit: 'km', limit: 2 }))
await staff.clear()

await stop()
server.close()
if ('close' in store) await store.close()
