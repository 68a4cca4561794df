/**
 * A distributed lock with a fencing token that refuses a stale write in SQL. Worker A takes the
 * lock and then stalls (a long GC pause, a frozen VM) past its TTL; worker B takes the lock over
 * and writes. When A wakes up its handle's signal says the lock is gone, and even if A writes
 * anyway, the database refuses it: the row remembers the highest token that wrote it.
 *
 * Uses Redis when REDIS_URL is set (locks shared by every process), else a memory store.
 * Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/lock.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { memoryStore } from 'cachekit'
import { createLocks } from 'cachekit/lock'
import { redisStore } from 'cachekit/redis'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const url = process.env['REDIS_URL']
const store = url ? redisStore({ url }) : memoryStore()
const locks = createLocks({ store, prefix: `example-${process.pid}:` })
const dir = mkdtempSync(join(tmpdir(), 'cachekit-lock-example-'))
const db = new Database(join(dir, 'shifts.db'))

try {
  db.exec('CREATE TABLE shifts (id INTEGER PRIMARY KEY, assigned TEXT NOT NULL, fence INTEGER NOT NULL)')
  db.prepare('INSERT INTO shifts VALUES (1, ?, 0)').run('nobody')
  // The fenced write: it only lands if no holder with a larger token wrote first.
  const assign = db.prepare('UPDATE shifts SET assigned = ?, fence = ? WHERE id = 1 AND fence < ?')
  const write = (who: string, token: number) => assign.run(who, token, token).changes === 1

  console.log(
    `locks on ${locks.shared ? 'Redis (shared by every process)' : 'a memory store (this process)'}`,
  )

  // Worker A: takes the lock for 300 ms and then stalls for 800 ms before writing.
  const a = await locks.lock('shift:1', { ttl: 300 })
  console.log(`A holds shift:1 with token ${a.token}`)
  const stalledA = sleep(800)

  // Worker B: waits for the lock (woken when it is released, or when A's TTL runs out) and writes.
  await locks.withLock(
    'shift:1',
    async (b) => {
      console.log(`B took shift:1 over with token ${b.token}: write accepted = ${write('B', b.token)}`)
    },
    { ttl: '5s', wait: '5s' },
  )

  await stalledA
  console.log(`A wakes up: lock lost = ${a.signal.aborted} (${(a.signal.reason as Error).message})`)
  // A writes anyway, as buggy code would: the token keeps the database right.
  console.log(`A's stale write accepted = ${write('A', a.token)}`)
  console.log('shift 1 is now:', db.prepare('SELECT assigned, fence FROM shifts WHERE id = 1').get())
  console.log(`A's release freed nothing (it was not the owner any more): ${!(await a.release())}`)
} finally {
  db.close()
  rmSync(dir, { recursive: true, force: true })
  await locks.close()
  await store.close()
}
