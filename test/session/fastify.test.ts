import { setTimeout as sleep } from 'node:timers/promises'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { fastifySessionStore, type Sessions, SNAPSHOT_FIELD } from '../../src/session/index.js'
import { idFromSignedCookie, SECRET } from '../support/session.js'
import { describeSessionDoor } from '../support/session-doors.js'

declare module 'fastify' {
  interface Session {
    userId?: string
    [field: string]: unknown
  }
}

/** One app instance: its own cache (its own Redis connection), sessions core and HTTP server. */
async function instance(sessions: Sessions) {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    store: fastifySessionStore(sessions),
    secret: SECRET,
    saveUninitialized: false,
    cookie: { secure: false, maxAge: 3_600_000 },
  })
  app.post('/login', async (request) => {
    await request.session.regenerate()
    request.session.set('userId', String((request.query as { user: string }).user))
    return { ok: true }
  })
  app.post('/set', async (request) => {
    const q = request.query as { field: string; value: string; delay?: string }
    await sleep(Number(q.delay ?? 0))
    request.session.set(q.field, q.value)
    return { ok: true }
  })
  app.get('/get', async (request) => {
    const { cookie: _c, [SNAPSHOT_FIELD]: _s, ...data } = { ...request.session } as Record<string, unknown>
    return data
  })
  app.post('/logout', async (request) => {
    await request.session.destroy()
    return { ok: true }
  })
  app.post('/logout-everywhere', async (request) => ({
    destroyed: await sessions.destroyUser(String(request.session.get('userId'))),
  }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
}

describeSessionDoor({
  title: '@fastify/session over cachekit sessions',
  instance,
  cookie: 'sessionId',
  id: idFromSignedCookie,
})
