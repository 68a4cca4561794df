import { describe, expect, it } from 'vitest'
import { Deadlines, DeadlineTimeoutError } from '../../src/internal/index.js'

describe('Deadlines', () => {
  it('calls a watched operation back with a timeout error once its deadline passes', async () => {
    const deadlines = new Deadlines(20)
    const failures: unknown[] = []
    const watched = deadlines.watch((error) => failures.push(error))
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(watched.settled).toBe(true)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toBeInstanceOf(DeadlineTimeoutError)
    expect(deadlines.pending).toBe(0)
  })

  it('never calls back an operation marked done, and lets go of its callback', async () => {
    const deadlines = new Deadlines(20)
    let called = 0
    const watched = deadlines.watch(() => called++)
    watched.done()
    expect(watched.settled).toBe(true)
    // The entry stays queued until the sweep; what it holds now is a no-op, not the caller's closure.
    expect((watched as unknown as { reject: () => void }).reject.name).toBe('ignore')
    deadlines.failAll(new Error('closing'))
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(called).toBe(0)
  })

  it('fails everything still pending with failAll, once', () => {
    const deadlines = new Deadlines(10_000)
    const seen: unknown[] = []
    deadlines.watch((error) => seen.push(error))
    const done = deadlines.watch((error) => seen.push(error))
    done.done()
    const closing = new Error('closing')
    deadlines.failAll(closing)
    deadlines.failAll(closing)
    expect(seen).toEqual([closing])
  })

  it('settles run() with the operation, or rejects at the deadline', async () => {
    const deadlines = new Deadlines(30)
    await expect(deadlines.run(Promise.resolve(7))).resolves.toBe(7)
    await expect(deadlines.run(new Promise(() => {}))).rejects.toBeInstanceOf(DeadlineTimeoutError)
  })
})
