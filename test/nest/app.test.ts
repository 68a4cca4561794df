import 'reflect-metadata'
import { CACHE_MANAGER, CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager'
import {
  Body,
  Controller,
  Delete,
  Get,
  type INestApplication,
  Inject,
  Module,
  Param,
  Put,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler'
import type { Cache as CacheManager } from 'cache-manager'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, MemoryStore } from '../../src/index.js'
import { createKeyv } from '../../src/keyv/index.js'
import { nestThrottlerStorage } from '../../src/nest/index.js'
import { type RedisStore, redisStore } from '../../src/stores/redis/index.js'
import { hasRedis } from '../support/ratelimit.js'
import { useRedisServer } from '../support/redis.js'

const HOUR = 3_600_000

/** A Nest app whose cache and throttler both keep their state in cachekit on `store`. */
async function startApp(store: RedisStore, prefix: string): Promise<{ app: INestApplication; url: string }> {
  const cache = createCache({ store, prefix })

  @Controller('items')
  @UseInterceptors(CacheInterceptor)
  class ItemsController {
    loads = 0
    @Get(':id')
    @CacheTTL(HOUR)
    item(@Param('id') id: string) {
      this.loads++
      return { id, loads: this.loads }
    }
  }

  @Controller('kv')
  class KeyValueController {
    constructor(@Inject(CACHE_MANAGER) private readonly manager: CacheManager) {}
    @Get(':key')
    async read(@Param('key') key: string) {
      return { value: (await this.manager.get(key)) ?? null }
    }
    @Put(':key')
    async write(@Param('key') key: string, @Body() body: { value: unknown; ttl?: number }) {
      await this.manager.set(key, body.value, body.ttl)
      return { ok: true }
    }
    @Delete(':key')
    async remove(@Param('key') key: string) {
      return { removed: await this.manager.del(key) }
    }
  }

  @Controller()
  @UseGuards(ThrottlerGuard)
  class LimitedController {
    @Get('limited')
    limited() {
      return { ok: true }
    }
    @Get('short-block')
    @Throttle({ default: { limit: 2, ttl: HOUR, blockDuration: 1000 } })
    shortBlock() {
      return { ok: true }
    }
  }

  @Module({
    imports: [
      // A namespace of the cache: Nest disconnects its stores on shutdown, which closes only it.
      CacheModule.register({ stores: [createKeyv(cache.namespace('nest'))] }),
      ThrottlerModule.forRoot({
        throttlers: [{ ttl: HOUR, limit: 3 }],
        storage: nestThrottlerStorage(store, { prefix: `${prefix}:throttle` }),
      }),
    ],
    controllers: [ItemsController, KeyValueController, LimitedController],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') }
}

describe.skipIf(!hasRedis)('a Nest app on cachekit (Redis)', () => {
  const server = useRedisServer()
  const prefix = `nest-test-${process.pid}-${Date.now()}`
  const stores: RedisStore[] = []
  const apps: INestApplication[] = []
  let one: string
  let two: string
  let cache: Cache

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) stores.push(redisStore({ url: server.url }))
    const [a, b] = [
      await startApp(stores[0] as RedisStore, prefix),
      await startApp(stores[1] as RedisStore, prefix),
    ]
    apps.push(a.app, b.app)
    one = a.url
    two = b.url
    cache = createCache({ store: stores[0] as RedisStore, prefix })
  })
  afterAll(async () => {
    for (const app of apps) await app.close()
    for (const store of stores) await store.close()
  })

  it('CacheInterceptor answers a GET from the cachekit cache, shared by both instances', async () => {
    const first = await (await fetch(`${one}/items/7`)).json()
    const again = await (await fetch(`${one}/items/7`)).json()
    const other = await (await fetch(`${two}/items/7`)).json()
    expect(first).toEqual({ id: '7', loads: 1 })
    expect(again).toEqual(first)
    expect(other).toEqual(first)
    // Keyv's entry `keyv:/items/7` in the `nest` namespace of the cache, in Redis, with Nest's TTL.
    const key = cache.namespace('nest').makeKey('keyv:/items/7')
    expect(server.cli('EXISTS', key).trim()).toBe('1')
    const ttl = Number(server.cli('PTTL', key).trim())
    expect(ttl).toBeGreaterThan(HOUR - 60_000)
    expect(ttl).toBeLessThanOrEqual(HOUR)
  })

  it('CACHE_MANAGER get, set (TTL in ms) and del go through cachekit', async () => {
    const put = (key: string, body: unknown) =>
      fetch(`${one}/kv/${key}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await put('user', { value: { name: 'Ada', roles: ['admin'] } })).status).toBe(200)
    expect(await (await fetch(`${two}/kv/user`)).json()).toEqual({ value: { name: 'Ada', roles: ['admin'] } })
    expect(await cache.namespace('nest').get('keyv:user')).toMatchObject({
      value: { name: 'Ada', roles: ['admin'] },
    })
    expect(await (await fetch(`${one}/kv/user`, { method: 'DELETE' })).json()).toEqual({ removed: true })
    expect(await (await fetch(`${two}/kv/user`)).json()).toEqual({ value: null })

    await put('short', { value: 'soon gone', ttl: 300 })
    const ttl = Number(server.cli('PTTL', cache.namespace('nest').makeKey('keyv:short')).trim())
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(300)
    expect(await (await fetch(`${one}/kv/short`)).json()).toEqual({ value: 'soon gone' })
    await new Promise((resolve) => setTimeout(resolve, 450))
    expect(await (await fetch(`${one}/kv/short`)).json()).toEqual({ value: null })
  })

  it('ThrottlerGuard: limit 3 across both instances, then 429 with Nest’s headers', async () => {
    const responses = []
    for (let i = 0; i < 6; i++) responses.push(await fetch(`${i % 2 === 0 ? one : two}/limited`))
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429, 429])
    expect(responses.slice(0, 3).map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0'])
    expect(responses[0]?.headers.get('x-ratelimit-limit')).toBe('3')
    expect(Number(responses[0]?.headers.get('x-ratelimit-reset'))).toBe(3600)
    // blockDuration defaults to ttl: blocked for the hour.
    expect(Number(responses[3]?.headers.get('retry-after'))).toBe(3600)
    expect(await responses[3]?.json()).toMatchObject({ statusCode: 429 })
  })

  it('honours blockDuration: blocked for it on every instance, then a fresh count', async () => {
    const status = async (base: string) => (await fetch(`${base}/short-block`)).status
    expect([await status(one), await status(two)]).toEqual([200, 200])
    const refused = await fetch(`${one}/short-block`)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await status(two)).toBe(429)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect([await status(two), await status(one), await status(two)]).toEqual([200, 200, 429])
  })
})

describe('a Nest app on cachekit (memory store)', () => {
  it('ThrottlerGuard on the memory store: limit, then 429 with Retry-After', async () => {
    const store = new MemoryStore()
    const cache = createCache({ store, prefix: 'nest-memory' })

    @Controller()
    @UseGuards(ThrottlerGuard)
    class PingController {
      @Get('ping')
      ping() {
        return 'pong'
      }
    }

    @Module({
      imports: [
        CacheModule.register({ stores: [createKeyv(cache.namespace('nest'))] }),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: HOUR, limit: 2 }],
          storage: nestThrottlerStorage(store),
        }),
      ],
      controllers: [PingController],
    })
    class MemoryModule {}

    const app = await NestFactory.create(MemoryModule, { logger: false })
    try {
      await app.listen(0, '127.0.0.1')
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
      const responses = []
      for (let i = 0; i < 3; i++) responses.push(await fetch(`${url}/ping`))
      expect(responses.map((r) => r.status)).toEqual([200, 200, 429])
      expect(responses[2]?.headers.get('retry-after')).toBe('3600')
    } finally {
      await app.close()
      await cache.close()
    }
  })
})
