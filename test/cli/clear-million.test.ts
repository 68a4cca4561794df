/**
 * `cachekit clear --pattern` over 1,000,000 keys on a private redis-server: progress (count, rate,
 * ETA) on stderr, exactly the matching keys deleted and no others; Ctrl-C during a scan and during
 * the deletes exits 130 and reports exactly what was done.
 */
import type { ChildProcess } from 'node:child_process'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { runCli } from '../support/cli.js'
import { type RedisServer, redisAvailable, useRedisServer } from '../support/redis.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 })

const TOTAL = 1_000_000
const HOT = TOTAL / 10
/** Keys the pattern must not touch: outside the prefix, or inside it but not matching `hot:*`. */
const DECOYS = ['other:hot:1', 'other:hot:2', 'm:hot', 'm:hotter:1', 'm:xhot:1', 'mx:hot:1', 'm:warm:hot:1']

/** Loads `m:hot:<n>` (every 10th n) and `m:cold:<n>` with MSET from Lua, 100,000 keys per call. */
function load(server: RedisServer): void {
  const script = `
    local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
    for b = from, to, 1000 do
      local args = {}
      for n = b, math.min(b + 999, to) do
        args[#args + 1] = (n % 10 == 0 and 'm:hot:' or 'm:cold:') .. n
        args[#args + 1] = 'v'
      end
      redis.call('MSET', unpack(args))
    end
    return redis.call('DBSIZE')`
  for (let from = 0; from < TOTAL; from += 100_000) {
    server.cli('EVAL', script, '0', String(from), String(from + 99_999))
  }
  for (const key of DECOYS) server.cli('SET', key, 'decoy')
}

const dbsize = (server: RedisServer) => Number(server.cli('DBSIZE'))

/** Sends SIGINT once stderr matches `ready`. */
function interruptWhen(ready: RegExp) {
  return (child: ChildProcess, output: { stderr: () => string }) => {
    const timer = setInterval(() => {
      if (ready.test(output.stderr())) {
        clearInterval(timer)
        child.kill('SIGINT')
      }
    }, 20)
    child.once('exit', () => clearInterval(timer))
  }
}

describe.skipIf(!redisAvailable())('clear --pattern over 1,000,000 keys', () => {
  const server = useRedisServer()
  let url: string
  beforeAll(async () => {
    url = server.url
    load(server)
    expect(dbsize(server)).toBe(TOTAL + DECOYS.length)
  })

  it('shows progress and deletes exactly the matching keys, no others', async () => {
    const result = await runCli(
      ['--url', url, '--prefix', 'm', '--json', 'clear', '--pattern', 'hot:*', '--yes'],
      {
        timeoutMs: 170_000,
      },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.json()).toMatchObject({ pattern: 'hot:*', matched: HOT, deleted: HOT, interrupted: false })
    // Progress on stderr: a count and rate while counting, then percentage, rate and ETA.
    expect(result.stderr).toMatch(/counting \d+ keys \| [\d,]+\/s/)
    expect(result.stderr).toMatch(/deleting \[[=-]+\] \d+% \| \d+\/100000 keys \| [\d,]+\/s \| ETA/)
    expect(result.stderr).toContain(`${HOT}/${HOT} keys`)
    expect(dbsize(server)).toBe(TOTAL - HOT + DECOYS.length)
    expect(server.cli('--scan', '--pattern', 'm:hot:*')).toBe('')
    for (const key of DECOYS) expect(server.cli('EXISTS', key), key).toBe('1')
    expect(server.cli('EXISTS', 'm:cold:1', 'm:cold:999999', 'm:cold:500001')).toBe('3')
  })

  it('Ctrl-C during a key scan exits 130 and reports the keys seen so far', async () => {
    const result = await runCli(['--url', url, '--prefix', 'm', '--json', 'keys', 'cold:*'], {
      timeoutMs: 120_000,
      onStart: interruptWhen(/scanning [1-9][\d]* keys/),
    })
    expect(result.code, result.stderr).toBe(130)
    const json = result.json<{ count: number; interrupted: boolean; keys: string[] }>()
    expect(json.interrupted).toBe(true)
    expect(json.count).toBeGreaterThan(0)
    expect(json.count).toBeLessThan(TOTAL - HOT)
    expect(json.keys.length).toBe(json.count)
  })

  it('Ctrl-C during the deletes exits 130; the count it reports is exactly what is gone', async () => {
    const before = dbsize(server)
    const result = await runCli(
      ['--url', url, '--prefix', 'm', '--json', 'clear', '--pattern', 'cold:*', '--yes'],
      {
        timeoutMs: 170_000,
        onStart: interruptWhen(/deleting \[[=-]+\] \d+% \| [1-9]\d*\//),
      },
    )
    expect(result.code, result.stderr).toBe(130)
    const json = result.json<{ deleted: number; matched: number; interrupted: boolean }>()
    expect(json).toMatchObject({ matched: TOTAL - HOT, interrupted: true })
    expect(json.deleted).toBeGreaterThan(0)
    expect(json.deleted).toBeLessThan(TOTAL - HOT)
    expect(dbsize(server)).toBe(before - json.deleted)
    expect(result.stderr).toContain('Interrupted')
    for (const key of DECOYS) expect(server.cli('EXISTS', key), key).toBe('1')
  })
})
