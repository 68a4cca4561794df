/**
 * A NestJS app on cachekit: Nest's cache (`@nestjs/cache-manager`, so `CacheInterceptor` and
 * `@Inject(CACHE_MANAGER)`) keeps its entries in a cachekit cache through `cachekit/keyv`, and
 * `@nestjs/throttler` keeps its counters in cachekit's store through `cachekit/nest`. Runs on the
 * memory store; set REDIS_URL to share the cache and the limits between every instance of the app.
 *
 * Nest's decorators need `"experimentalDecorators": true`, which a Nest project's tsconfig has; in
 * this repository run it with
 *   TSX_TSCONFIG_PATH=test/nest/tsconfig.json node --import tsx/esm examples/nest.ts
 * (tsx's CommonJS hook, which `--import tsx` adds, would load Nest 12's ESM-only core a second time
 * for `@nestjs/throttler`, which is CommonJS). Dependencies are injected with explicit
 * `@Inject(...)` tokens, so it also runs where the compiler emits no decorator metadata (tsx,
 * esbuild, vitest).
 */
import 'reflect-metadata'
import { CACHE_MANAGER, CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager'
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Param,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler'
import type { Cache as CacheManager } from 'cache-manager'
import { createCache, MemoryStore } from 'cachekit'
import { createKeyv } from 'cachekit/keyv'
import { nestThrottlerStorage } from 'cachekit/nest'
import { redisStore } from 'cachekit/redis'

// The memory store in development; with REDIS_URL, one Redis shared by every instance of the app.
const redis = process.env['REDIS_URL'] ? redisStore({ url: process.env['REDIS_URL'] }) : undefined
const store = redis ?? new MemoryStore()
const prefix = `nest-example-${process.pid}`
const cache = createCache({ store, prefix, ttl: '5m' })

@Injectable()
class CourseService {
  loads = 0
  async find(id: string) {
    this.loads++
    return { id, title: `Course ${id}`, lessons: 12 }
  }
}

@Controller('courses')
class CoursesController {
  constructor(@Inject(CourseService) private readonly courses: CourseService) {}

  // The response is cached under the request URL for a minute (Nest's TTLs are milliseconds).
  @Get(':id')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(60_000)
  find(@Param('id') id: string) {
    return this.courses.find(id)
  }
}

@Controller('search')
@UseGuards(ThrottlerGuard)
class SearchController {
  constructor(@Inject(CACHE_MANAGER) private readonly manager: CacheManager) {}

  // 3 searches a minute per client address; the 4th gets 429 and Retry-After.
  @Get(':term')
  @Throttle({ default: { limit: 3, ttl: 60_000 } })
  async search(@Param('term') term: string) {
    const searches = ((await this.manager.get<number>(`searches:${term}`)) ?? 0) + 1
    await this.manager.set(`searches:${term}`, searches, 3_600_000)
    return { term, searches }
  }
}

@Module({
  imports: [
    // A namespace of the cache: Nest disconnects its stores on shutdown, which closes only that.
    CacheModule.register({ stores: [createKeyv(cache.namespace('nest'))] }),
    ThrottlerModule.forRoot({
      throttlers: [{ ttl: 60_000, limit: 100 }],
      storage: nestThrottlerStorage(store, { prefix: `${prefix}:throttle` }),
    }),
  ],
  controllers: [CoursesController, SearchController],
  providers: [CourseService],
})
class AppModule {}

await cache.ready()
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] })
await app.listen(0, '127.0.0.1')
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
console.log('store:', store.name)

for (let i = 0; i < 2; i++) await (await fetch(`${url}/courses/7`)).json()
console.log('two GET /courses/7, loads:', app.get(CourseService).loads)
console.log('cached by Nest in cachekit:', await cache.namespace('nest').has('keyv:/courses/7'))

for (let i = 0; i < 4; i++) {
  const res = await fetch(`${url}/search/redis`)
  const remaining = res.headers.get('x-ratelimit-remaining')
  console.log(
    `GET /search/redis -> ${res.status}`,
    res.ok ? `remaining ${remaining}` : `retry-after ${res.headers.get('retry-after')}s`,
  )
}

await app.close()
await cache.clear()
await cache.close()
await redis?.close()
