import type { Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { honoSession, type Sessions } from '../../src/session/index.js'
import { listen } from '../support/listen.js'
import { Jar } from '../support/session.js'
import { describeSessionDoor } from '../support/session-doors.js'

function instance(sessions: Sessions) {
  const app = new Hono()
  app.use(honoSession({ sessions, cookie: { secure: false } }))
  app.post('/login', async (c) => {
    const session = c.get('session')
    await session.regenerate()
    session.set('userId', c.req.query('user'))
    return c.json({ ok: true })
  })
  app.post('/set', async (c) => {
    await sleep(Number(c.req.query('delay') ?? 0))
    c.get('session').set(String(c.req.query('field')), c.req.query('value'))
    return c.json({ ok: true })
  })
  app.get('/get', (c) => c.json(c.get('session').toJSON()))
  app.post('/logout', async (c) => {
    await c.get('session').destroy()
    return c.json({ ok: true })
  })
  app.post('/logout-everywhere', async (c) =>
    c.json({ destroyed: await sessions.destroyUser(String(c.get('session').get('userId'))) }),
  )
  return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
}

describeSessionDoor(
  {
    title: 'Hono session middleware',
    instance,
    cookie: 'sid',
    id(value) {
      if (value === undefined) throw new Error('no session cookie')
      return value
    },
  },
  (start) => {
    it('keeps every field of concurrent requests on two instances, refuses writes after logout', async () => {
      const a = await start()
      const b = await start()
      const jar = new Jar()
      await jar.fetch(`${a.url}/set?field=before&value=1`, { method: 'POST' })
      await jar.fetch(`${a.url}/login?user=hana`, { method: 'POST' })
      const id = jar.get('sid') as string
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          jar.copy().fetch(`${(i % 2 ? a : b).url}/set?field=f${i}&value=${i}`, { method: 'POST' }),
        ),
      )
      const data = (await (await jar.fetch(`${b.url}/get`)).json()) as Record<string, string>
      for (let i = 0; i < 50; i++) expect(data[`f${i}`]).toBe(String(i))
      expect(data['before']).toBe('1')

      const late = jar.copy().fetch(`${a.url}/set?field=late&value=1&delay=150`, { method: 'POST' })
      await sleep(30)
      await jar.fetch(`${b.url}/logout`, { method: 'POST' })
      await late
      expect(jar.get('sid')).toBeUndefined()
      expect(await a.sessions.load(id)).toBeUndefined()
      expect(await a.sessions.sessionsOf('hana')).toHaveLength(0)
    })

    it('sets no cookie and writes nothing for a visitor without session data', async () => {
      const a = await start()
      const jar = new Jar()
      const reply = await jar.fetch(`${a.url}/get`)
      expect(await reply.json()).toEqual({})
      expect(reply.headers.getSetCookie()).toEqual([])
    })
  },
)
