import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import session from 'express-session'
import { expressSessionStore, type Sessions } from '../../src/session/index.js'
import { listen } from '../support/listen.js'
import { idFromSignedCookie, SECRET } from '../support/session.js'
import { describeSessionDoor } from '../support/session-doors.js'

declare module 'express-session' {
  interface SessionData {
    userId?: string
    [field: string]: unknown
  }
}

/** One app instance: its own cache (its own Redis connection), sessions core and HTTP server. */
async function instance(sessions: Sessions) {
  const app = express()
  app.use(
    session({
      store: expressSessionStore(sessions),
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  )
  app.post('/login', (req, res, next) => {
    req.session.regenerate((error) => {
      if (error) return next(error)
      req.session.userId = String(req.query['user'])
      res.json({ ok: true })
    })
  })
  app.post('/set', async (req, res) => {
    await sleep(Number(req.query['delay'] ?? 0))
    req.session[String(req.query['field'])] = String(req.query['value'])
    res.json({ ok: true })
  })
  app.get('/get', (req, res) => {
    const { cookie: _, ...data } = req.session as unknown as Record<string, unknown>
    res.json(data)
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.json({ ok: true })))
  })
  app.post('/logout-everywhere', async (req, res) => {
    res.json({ destroyed: await sessions.destroyUser(String(req.session.userId)) })
  })
  return listen(createServer(app))
}

describeSessionDoor({
  title: 'express-session over cachekit sessions',
  instance,
  cookie: 'connect.sid',
  id: idFromSignedCookie,
})
