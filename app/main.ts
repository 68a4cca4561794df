/**
 * `npm start`: the reference app on the embedded defaults (SQLite in app/data, memory cache), or
 * on Redis / PostgreSQL / MariaDB when REDIS_URL, CACHE_URL or DATABASE_URL say so.
 */
import { startApp } from './server.js'

const app = await startApp()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: closing`)
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  })
}
