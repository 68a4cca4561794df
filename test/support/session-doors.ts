/**
 * One driver over the three session doors (express-session, @fastify/session, Hono): each door's
 * test file builds an app with the same five routes and hands it here, so the behaviour every door
 * owes is written once and run on each backing (memory, and Redis when there is one).
 *
 * The app's routes: `POST /login?user=` (regenerates the session, sets `userId`),
 * `POST /set?field=&value=&delay=` (sets a field after `delay` ms), `GET /get` (the session's
 * fields), `POST /logout`, `POST /logout-everywhere` (answers `{ destroyed }`).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import type { Sessions } from '../../src/session/index.js'
import { backings, Jar, sessionsOn } from './session.js'

export interface SessionDoor {
  /** The suite's title, before the backing's name. */
  readonly title: string
  /** Starts one app instance (its own HTTP server) on `sessions`. */
  instance(sessions: Sessions): Promise<{ url: string; close(): Promise<unknown> }>
  /** The session cookie's name. */
  readonly cookie: string
  /** The session id inside the cookie's value. */
  id(value: string | undefined): string
}

/** A running instance: its sessions core and base URL. */
export interface Instance {
  readonly sessions: Sessions
  readonly url: string
}

/**
 * One `describe` per backing: the shared behaviour, then `more(start)` for what only this door
 * does. `start()` starts one instance (its own cache, hence its own Redis connection); every
 * instance is closed after the suite.
 */
export function describeSessionDoor(
  door: SessionDoor,
  more?: (start: () => Promise<Instance>) => void,
): void {
  for (const backing of backings()) {
    describe(`${door.title} (${backing.name})`, () => {
      const closers: (() => Promise<unknown>)[] = []
      afterAll(async () => {
        for (const close of closers) await close()
      })
      const start = async (): Promise<Instance> => {
        const sessions = sessionsOn(backing.cache())
        const server = await door.instance(sessions)
        closers.push(() => server.close())
        return { sessions, url: server.url }
      }
      const idOf = (jar: Jar) => door.id(jar.get(door.cookie))
      const post = (jar: Jar, url: string) => jar.fetch(url, { method: 'POST' })

      it('keeps all 100 fields set by 100 concurrent requests on one session', async () => {
        const a = await start()
        const jar = new Jar()
        await post(jar, `${a.url}/login?user=alice`)
        const responses = await Promise.all(
          Array.from({ length: 100 }, (_, i) => post(jar.copy(), `${a.url}/set?field=f${i}&value=v${i}`)),
        )
        expect(responses.every((r) => r.status === 200)).toBe(true)
        const data = (await (await jar.fetch(`${a.url}/get`)).json()) as Record<string, string>
        for (let i = 0; i < 100; i++) expect(data[`f${i}`]).toBe(`v${i}`)
        expect(data['userId']).toBe('alice')
      })

      it('regenerates the id on login: the old id is dead', async () => {
        const a = await start()
        const jar = new Jar()
        await post(jar, `${a.url}/set?field=before&value=1`)
        const before = idOf(jar)
        await post(jar, `${a.url}/login?user=bob`)
        const after = idOf(jar)
        expect(after).not.toBe(before)
        expect(await a.sessions.load(before)).toBeUndefined()
        expect((await a.sessions.load(after))?.data['userId']).toBe('bob')
      })

      it('an unchanged session costs no write per request (throttled touch)', async () => {
        const a = await start()
        const jar = new Jar()
        await post(jar, `${a.url}/login?user=erin`)
        const id = idOf(jar)
        const first = (await a.sessions.load(id))?.snapshot.touchedAt
        for (let i = 0; i < 5; i++) expect((await jar.fetch(`${a.url}/get`)).status).toBe(200)
        expect((await a.sessions.load(id))?.snapshot.touchedAt).toBe(first)
      })

      it('a logout racing 50 in-flight writes on two instances never comes back', async () => {
        const a = await start()
        const b = await start()
        const jar = new Jar()
        await post(jar, `${a.url}/login?user=carol`)
        const id = idOf(jar)
        const writes = Array.from({ length: 50 }, (_, i) =>
          post(jar.copy(), `${(i % 2 ? a : b).url}/set?field=w${i}&value=x&delay=${(i * 7) % 150}`),
        )
        await sleep(40)
        const logout = await post(jar.copy(), `${b.url}/logout`)
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
        await post(phone, `${a.url}/login?user=dave`)
        await post(laptop, `${b.url}/login?user=dave`)
        expect(await a.sessions.sessionsOf('dave')).toHaveLength(2)
        const reply = await post(phone, `${a.url}/logout-everywhere`)
        expect(await reply.json()).toEqual({ destroyed: 2 })
        const data = (await (await laptop.fetch(`${b.url}/get`)).json()) as Record<string, unknown>
        expect(data['userId']).toBeUndefined()
        expect(await b.sessions.sessionsOf('dave')).toHaveLength(0)
      })

      more?.(start)
    })
  }
}
