/**
 * `@cache.cached` on service methods, in the style of Python's `@cached(ttl, key_prefix)`
 * decorators, and the function form with `invalidate`. Run it with `npx tsx examples/decorators.ts`.
 */
import { createCache, memoryStore } from 'cachekit'

const cache = createCache({ store: memoryStore(), prefix: 'courses' })

class CourseService {
  loads = 0

  @cache.cached({ key: (id: number) => `course:${id}`, ttl: '1h', tags: (id: number) => [`course:${id}`] })
  async getCourse(id: number) {
    this.loads++
    return { id, title: `Course ${id}`, lessons: [1, 2, 3] }
  }

  async renameCourse(id: number, _title: string) {
    // ... write to the database, then invalidate everything tagged with the course
    await cache.deleteByTag(`course:${id}`)
  }
}

const service = new CourseService()
await service.getCourse(7)
await service.getCourse(7)
console.log('two calls, loads:', service.loads)
await service.renameCourse(7, 'New title')
await service.getCourse(7)
console.log('after rename, loads:', service.loads)

let computed = 0
const leaderboard = cache.cached(
  async (courseId: number, period: 'week' | 'month') => {
    computed++
    return [
      { user: 1, points: 100 },
      { courseId, period },
    ]
  },
  { key: 'leaderboard', ttl: '5m' },
)
await leaderboard(7, 'week')
await leaderboard(7, 'week')
console.log('leaderboard key:', leaderboard.keyFor(7, 'week'), '| computed:', computed)
await leaderboard.invalidate(7, 'week')
await leaderboard(7, 'week')
console.log('after invalidate, computed:', computed)
await cache.close()
