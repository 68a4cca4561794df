/** The one call-guard shape: Redis and SQL stores answer an unreachable server the same way. */
import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { absorbs, RETHROW } from '../../src/internal/call-guard.js'
import { DEGRADED_CHANNEL, type DegradedEvent } from '../../src/observe/channels.js'
import { redisStore } from '../../src/stores/redis/index.js'
import { sqlStore } from '../../src/stores/sql/index.js'
import { closedPort } from '../support/processes.js'

describe('call guard', () => {
  const events: DegradedEvent[] = []
  const listen = (message: unknown) => events.push(message as DegradedEvent)
  diagnostics.subscribe(DEGRADED_CHANNEL, listen)
  afterEach(() => {
    events.length = 0
  })
  afterAll(() => {
    diagnostics.unsubscribe(DEGRADED_CHANNEL, listen)
  })

  it('a fallback answers only under onError: ignore, and never when it is RETHROW', () => {
    expect(absorbs('ignore', undefined)).toBe(true)
    expect(absorbs('ignore', RETHROW)).toBe(false)
    expect(absorbs('throw', 0)).toBe(false)
  })

  it('both stores publish an ignored error with the operation that met it', async () => {
    const port = await closedPort()
    const stores = [
      redisStore({ url: `redis://127.0.0.1:${port}`, onError: 'ignore', onLog: () => {} }),
      sqlStore({ url: `postgres://x@127.0.0.1:${port}/test`, onError: 'ignore', timeout: 1000 }),
    ]
    for (const store of stores) {
      expect(await store.get('k')).toBeUndefined()
      expect(events.filter((e) => e.kind === 'ignored-error').map((e) => e.operation)).toContain('get')
      events.length = 0
      await store.close()
    }
  })
})
