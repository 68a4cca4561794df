import promClient from 'prom-client'
import { describe, expect, it } from 'vitest'
import { registerMetrics } from '../../src/observe/prometheus/index.js'
import { resolveEventStreamOptions } from '../../src/pubsub/sse.js'
import type { RedisStoreOptions } from '../../src/stores/redis/options.js'
import { resolveOptions as resolveRedis } from '../../src/stores/redis/options.js'
import type { SqlStoreOptions } from '../../src/stores/sql/options.js'
import { resolveOptions as resolveSql } from '../../src/stores/sql/options.js'

const url = 'redis://127.0.0.1:6379'
const sqlite = { dialect: 'sqlite', filename: ':memory:' } as const

describe('every option that takes a time takes a Duration', () => {
  it('redisStore: timeout, connectTimeout, maxReconnectDelay, breaker.coolDown', () => {
    const options: RedisStoreOptions = {
      url,
      timeout: '250ms',
      connectTimeout: '3s',
      maxReconnectDelay: 500,
      breaker: { coolDown: '2s' },
    }
    expect(resolveRedis(options)).toMatchObject({
      timeout: 250,
      connectTimeout: 3000,
      maxReconnectDelay: 500,
      breaker: { threshold: 5, coolDownMs: 2000 },
    })
    // The deprecated name still works; both at once is a mistake.
    expect(resolveRedis({ url, breaker: { coolDownMs: 300 } }).breaker).toEqual({
      threshold: 5,
      coolDownMs: 300,
    })
    expect(() => resolveRedis({ url, breaker: { coolDown: '1s', coolDownMs: 300 } })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringMatching(/coolDown/) }),
    )
    for (const timeout of ['0ms', '25d', 1.5] as const) {
      expect(() => resolveRedis({ url, timeout })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
    }
    // @ts-expect-error not a duration
    expect(() => resolveRedis({ url, timeout: '100 msec' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringMatching(/'100ms'/) }),
    )
  })

  it('sqlStore: timeout, connectTimeout, busyTimeout', () => {
    const options: SqlStoreOptions = {
      dialect: 'sqlite',
      filename: ':memory:',
      timeout: '2s',
      busyTimeout: '1.5s',
    }
    expect(resolveSql(options)).toMatchObject({ timeout: 2000, busyTimeout: 1500 })
    expect(
      resolveSql({ dialect: 'postgres', url: 'postgres://h/db', connectTimeout: '5s' }).connectTimeout,
    ).toBe(5000)
    // @ts-expect-error not a duration
    expect(() => resolveSql({ ...sqlite, timeout: 'a second' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
  })

  it('event streams: retry', () => {
    expect(resolveEventStreamOptions({ retry: '2s' }).retry).toBe(2000)
    expect(() => resolveEventStreamOptions({ retry: '0s' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
  })

  it('registerMetrics: redisTimeout, and redisTimeoutMs as its deprecated name', () => {
    const registry = new promClient.Registry()
    registerMetrics({ registry, redisTimeout: '500ms' }).close()
    registerMetrics({ registry: new promClient.Registry(), redisTimeoutMs: 500 }).close()
    expect(() => registerMetrics({ registry, redisTimeout: '1s', redisTimeoutMs: 500 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
    expect(() => registerMetrics({ registry, redisTimeout: '0ms' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    )
  })
})
