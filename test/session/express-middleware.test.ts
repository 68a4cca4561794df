import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import express, { type Response } from 'express'
import { expect, it } from 'vitest'
import { expressSession, type RequestSession, type Sessions } from '../../src/session/index.js'
import { listen } from '../support/listen.js'
import { Jar } from '../support/session.js'
import { describeSessionDoor } from '../support/session-doors.js'

const sessionOf = (res: Response): RequestSession => res.locals['session'] as RequestSession

function instance(sessions: Sessions) {
  const app = express()
  app.use(expressSession({ sessions, cookie: { secure: false } }))
  app.post('/login', async (req, res) => {
    await sessionOf(res).regenerate()
    sessionOf(res).set('userId', String(req.query['user']))
    res.json({ ok: true })
  })
  app.post('/set', async (req, res) => {
    await sleep(Number(req.query['delay'] ?? 0))
    sessionOf(res).set(String(req.query['field']), String(req.query['value']))
    res.json({ ok: true })
  })
  app.get('/get', (_req, res) => {
    res.json(sessionOf(res).toJSON())
  })
  app.post('/logout', async (_req, res) => {
    await sessionOf(res).destroy()
    res.json({ ok: true })
  })
  app.post('/logout-everywhere', async (_req, res) => {
    res.json({ destroyed: await sessions.destroyUser(String(sessionOf(res).get('userId'))) })
  })
  app.get('/stream', (_req, res) => {
    sessionOf(res).set('streamed', 'yes')
    res.write('part one, ')
    res.end('part two')
  })
  app.get('/redirect', (_req, res) => {
    sessionOf(res).set('redirected', 'yes')
    res.redirect('/get')
  })
  return listen(createServer(app))
}

describeSessionDoor(
  {
    title: 'Express session middleware',
    instance,
    cookie: 'sid',
    id(value) {
      if (value === undefined) throw new Error('no session cookie')
      return value
    },
  },
  (start) => {
    it('saves before the response goes out: the next request sees the change', async () => {
      const a = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/login?user=ines`, { method: 'POST' })
      for (let i = 0; i < 20; i++) {
        await jar.fetch(`${a.url}/set?field=n&value=${i}`, { method: 'POST' })
        const data = (await (await jar.fetch(`${a.url}/get`)).json()) as Record<string, string>
        expect(data['n']).toBe(String(i))
      }
    })

    it('saves a streamed response and a redirect at their end', async () => {
      const a = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/login?user=omar`, { method: 'POST' })
      expect(await (await jar.fetch(`${a.url}/stream`)).text()).toBe('part one, part two')
      const reply = await jar.fetch(`${a.url}/redirect`, { redirect: 'manual' })
      expect(reply.status).toBe(302)
      const data = (await (await jar.fetch(`${a.url}/get`)).json()) as Record<string, string>
      expect(data).toMatchObject({ userId: 'omar', streamed: 'yes', redirected: 'yes' })
    })

    it('sets no cookie for a visitor without session data, and ignores a forged cookie', async () => {
      const a = await start()
      const jar = new Jar()
      const reply = await jar.fetch(`${a.url}/get`)
      expect(await reply.json()).toEqual({})
      expect(reply.headers.getSetCookie()).toEqual([])
      const forged = await fetch(`${a.url}/get`, { headers: { cookie: 'sid=../../etc; x=1' } })
      expect(await forged.json()).toEqual({})
      expect(forged.headers.getSetCookie()).toEqual([])
    })
  },
)
