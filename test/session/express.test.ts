import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import session from 'express-session'
import { afterAll, describe, expect, it } from 'vitest'
import { expressSessionStore, type Sessions } from '../../src/session/index.js'
import { backings, idFromSignedCookie, Jar, listen, SECRET, sessionsOn } from '../support/session.js'

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

for (const backing of backings()) {
  describe(`express-session over cachekit sessions (${backing.name})`, () => {
    const closers: (() => Promise<void>)[] = []
    afterAll(async () => {
      for (const close of closers) await close()
    })
    const start = async () => {
      const sessions = sessionsOn(backing.cache())
      const server = await instance(sessions)
      closers.push(server.close)
      return { sessions, url: server.url }
    }

    it('keeps all 100 fields set by 100 concurrent requests on one session', async () => {
      const a = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/login?user=alice`, { method: 'POST' })
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          jar.copy().fetch(`${a.url}/set?field=f${i}&value=v${i}`, { method: 'POST' }),
        ),
      )
      expect(responses.every((r) => r.status === 200)).toBe(true)
      const data = (await (await jar.fetch(`${a.url}/get`)).json()) as Record<string, string>
      for (let i = 0; i < 100; i++) expect(data[`f${i}`]).toBe(`v${i}`)
      expect(data['userId']).toBe('alice')
    })

    it('regenerates the id on login: the old id is dead', async () => {
      const a = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/set?field=before&value=1`, { method: 'POST' })
      const before = idFromSignedCookie(jar.get('connect.sid'))
      await jar.fetch(`${a.url}/login?user=bob`, { method: 'POST' })
      const after = idFromSignedCookie(jar.get('connect.sid'))
      expect(after).not.toBe(before)
      expect(await a.sessions.load(before)).toBeUndefined()
      expect((await a.sessions.load(after))?.data['userId']).toBe('bob')
    })

    it('an unchanged session costs no write per request (throttled touch)', async () => {
      const a = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/login?user=erin`, { method: 'POST' })
      const id = idFromSignedCookie(jar.get('connect.sid'))
      const first = (await a.sessions.load(id))?.snapshot.touchedAt
      for (let i = 0; i < 5; i++) expect((await jar.fetch(`${a.url}/get`)).status).toBe(200)
      expect((await a.sessions.load(id))?.snapshot.touchedAt).toBe(first)
    })

    it('a logout racing 50 in-flight writes on two instances never comes back', async () => {
      const a = await start()
      const b = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/login?user=carol`, { method: 'POST' })
      const id = idFromSignedCookie(jar.get('connect.sid'))
      const writes = Array.from({ length: 50 }, (_, i) =>
        jar
          .copy()
          .fetch(`${(i % 2 ? a : b).url}/set?field=w${i}&value=x&delay=${(i * 7) % 150}`, { method: 'POST' }),
      )
      await sleep(40)
      const logout = await jar.copy().fetch(`${b.url}/logout`, { method: 'POST' })
      expect(logout.status).toBe(200)
      await Promise.all(writes)
      await sleep(50)
      expect(await a.sessions.load(id)).toBeUndefined()
      expect(await b.sessions.load(id)).toBeUndefined()
      // The browser still sending the old cookie gets an empty session on either instance.
      for (const url of [a.url, b.url]) {
        const data = (await (await jar.copy().fetch(`${url}/get`)).json()) as Record<string, unknown>
        expect(data['userId']).toBeUndefined()
      }
    })

    it('"log out everywhere" reaches sessions created on another instance', async () => {
      const a = await start()
      const b = await start()
      const phone = new Jar()
      const laptop = new Jar()
      await phone.fetch(`${a.url}/login?user=dave`, { method: 'POST' })
      await laptop.fetch(`${b.url}/login?user=dave`, { method: 'POST' })
      expect(await a.sessions.sessionsOf('dave')).toHaveLength(2)
      const reply = await phone.fetch(`${a.url}/logout-everywhere`, { method: 'POST' })
      expect(await reply.json()).toEqual({ destroyed: 2 })
      const data = (await (await laptop.fetch(`${b.url}/get`)).json()) as Record<string, unknown>
      expect(data['userId']).toBeUndefined()
      expect(await b.sessions.sessionsOf('dave')).toHaveLength(0)
    })
  })
}
