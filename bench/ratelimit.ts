/**
 * Scenario 7: rate limiting. Decisions per second and Redis requests per decision, cachekit's
 * limiter (`cachekit/ratelimit`, with a prefix) against rate-limiter-flexible (RateLimiterRedis
 * over node-redis, RateLimiterUnion for several policies, RateLimiterMemory) and express-rate-limit
 * with rate-limit-redis (lib/ratelimit-contenders.ts), on one throwaway `redis-server` over
 * loopback, client keys taken in random order over 10,000 and 100,000 clients. Round trips and
 * requests are counted through a loopback proxy and INFO commandstats (lib/ratelimit-count.ts),
 * outside any timed code: one decision at a time, and 100 in flight.
 */

import { PREFIX, randomOrder } from './lib/data.js'
import { met, ops, percent, ratio, table } from './lib/format.js'
import {
  inFlightTask,
  type Measured,
  type MeasureOptions,
  measure,
  type OpTask,
  pairedRatio,
  roundsNote,
  serialTask,
} from './lib/measure.js'
import {
  BLOCKED_KEYS,
  CK,
  type Contender,
  IN_PROCESS,
  LIMIT,
  makeContenders,
  ON_REDIS,
  RLF,
} from './lib/ratelimit-contenders.js'
import { COUNTED, countRoundTrips, countUnderLoad } from './lib/ratelimit-count.js'
import { type BenchRedis, describeCommands, withBenchRedis } from './lib/redis-server.js'
import { defineScenario, progress, ratioTarget, type Target } from './lib/scenario.js'
import { version } from './lib/versions.js'

const SERIAL_BATCH = 200
const IN_FLIGHT = 100
const PARALLEL_BATCH = 2_000
/** Decisions per timed call for in-process limiters (and cachekit's deny cache). */
const MEMORY_BATCH = 1_000
const FULL: MeasureOptions = { time: 150, warmupTime: 40, rounds: 6, iterations: 4 }
const QUICK: MeasureOptions = { time: 100, warmupTime: 30, rounds: 1, iterations: 4 }

/** Client counts: decisions take the clients of a workload in a random order. */
const SMALL = 10_000
const LARGE = 100_000
/** Decisions counted with 100 in flight through the proxy, per row. */
const LOADED = 4_000

/** A timed run: one at a time over 10k clients, or 100 in flight over 10k or 100k. */
type Run = 'serial' | 'parallel 10k' | 'parallel 100k'

export default defineScenario({
  title: '7. Rate limiting: decisions per second and Redis requests per decision, random clients',
  run: ({ quick }) => withBenchRedis((server) => runOn(server, quick)),
})

async function runOn(server: BenchRedis, quick: boolean) {
  const counted = await countRoundTrips(server)
  progress(`requests per decision, ${IN_FLIGHT} in flight, through the counting proxy`)
  const loaded = await countUnderLoad(server, IN_FLIGHT, quick ? 1_000 : LOADED)
  const stack = await makeContenders(server.url)
  const wrong = new Map<string, number>()
  try {
    for (const c of stack.contenders) {
      for (const i of [0, 1, LARGE - 1]) {
        const got = await c.decide(i)
        if (got !== c.expect) throw new Error(`${c.name} answered allowed=${got} for client ${i}`)
      }
    }
    const orders = { small: randomOrder(SMALL), large: randomOrder(LARGE) }
    const tasks: OpTask[] = []
    for (const c of stack.contenders) {
      tasks.push(task(c, 'serial', orders.small, wrong))
      if (c.redis) tasks.push(task(c, 'parallel 10k', orders.small, wrong))
      if (c.redis) tasks.push(task(c, 'parallel 100k', orders.large, wrong))
    }
    const options = quick ? QUICK : FULL
    progress(`${tasks.length} tasks × ${options.rounds} rounds`)
    const results = await measure(tasks, options)

    const at = (name: string, run: Run): Measured | undefined => results.get(`${name} ${run}`)
    const cell = (name: string, run: Run) => {
      const m = at(name, run)
      return m ? `${ops(m.opsPerSec)} ${percent(m.spread)}` : 'n/a'
    }
    const vs = (c: Contender, run: Run) => {
      const mine = at(c.versus, run)
      const theirs = at(c.name, run)
      return mine && theirs ? pairedRatio(mine, theirs) : Number.NaN
    }
    const byName = new Map(stack.contenders.map((c) => [c.name, c]))
    const best = (mine: string, theirs: string, run: Run) =>
      (at(mine, run)?.opsPerSec ?? Number.NaN) / (at(theirs, run)?.opsPerSec ?? Number.NaN)
    const redisRows = ON_REDIS.map((name) => {
      const c = byName.get(name)!
      const trips = counted.throughput.get(name)
      const requests = loaded.get(name)?.requests
      return [
        name,
        cell(name, 'serial'),
        ratio(vs(c, 'serial')),
        cell(name, 'parallel 10k'),
        ratio(vs(c, 'parallel 10k')),
        cell(name, 'parallel 100k'),
        ratio(vs(c, 'parallel 100k')),
        requests === undefined ? 'n/a' : requests.toFixed(2),
        trips ? trips.roundTrips.toFixed(2) : 'n/a',
        trips ? describeCommands(trips.commands) : 'n/a',
        trips ? `${trips.usec.toFixed(1)} µs` : 'n/a',
      ]
    })
    const memoryRows = IN_PROCESS.map((name) => {
      const c = byName.get(name)!
      return [name, cell(name, 'serial'), name === c.versus ? '1.00x' : ratio(vs(c, 'serial'))]
    })
    const caseRows = counted.cases.map((k) => [
      k.contender,
      k.case,
      k.roundTrips.toFixed(2),
      describeCommands(k.commands),
      k.answer,
    ])

    const ckCase = (id: string) => counted.cases.find((k) => k.id === id)!
    const tripsTarget = (id: string, name: string, goal: number): Target => {
      const k = ckCase(id)
      return {
        name,
        goal: `${goal} round trip${goal === 1 ? '' : 's'} per decision`,
        measured: `${k.roundTrips.toFixed(2)} (${describeCommands(k.commands)})`,
        met: Math.abs(k.roundTrips - goal) < 1e-9,
      }
    }
    // A run where cachekit decided by its failure policy did not measure Redis decisions.
    const ckWrong = (wrong.get(CK) ?? 0) + (loaded.get(CK)?.wrong ?? 0)
    const valid = (t: Target): Target =>
      ckWrong === 0 ? t : { ...t, measured: `${t.measured} (${ckWrong} decisions not on Redis)`, met: false }
    const targets: Target[] = [
      tripsTarget('ck-one', 'cachekit round trips per decision, 1 policy', 1),
      tripsTarget('ck-multi', "cachekit round trips per decision, 2 policies ['10/s', '1000/day']", 1),
      tripsTarget('ck-block', 'cachekit round trips, the refusal that starts a block (blockFor)', 1),
      tripsTarget('ck-blocked-nocache', 'cachekit round trips, blocked key, deny cache off', 1),
      tripsTarget('ck-blocked', 'cachekit round trips, blocked key, deny cache on', 0),
      ...(['10k', '100k'] as const).map((clients) =>
        valid(
          ratioTarget(
            `cachekit decisions/s ÷ rate-limiter-flexible RateLimiterRedis, 100 in flight (prefix, ${clients} random clients)`,
            vs(byName.get(RLF)!, `parallel ${clients}`),
            '>=',
            1.3,
          ),
        ),
      ),
      {
        name: `cachekit Redis requests per decision, ${IN_FLIGHT} in flight (1 policy)`,
        goal: 'below 1 (decisions in flight batched)',
        measured: `${(loaded.get(CK)?.requests ?? Number.NaN).toFixed(2)} (rate-limiter-flexible: ${(loaded.get(RLF)?.requests ?? Number.NaN).toFixed(2)})`,
        met: (loaded.get(CK)?.requests ?? Number.POSITIVE_INFINITY) < 1,
      },
    ]

    const body = [
      `One \`redis-server\` ${server.version} started for this scenario on a free loopback port (no persistence), shared by every contender, each on its own node-redis connection and its own keys (cachekit's limiter with prefix \`${PREFIX}\`, as an application sets it). Every limiter allows ${LIMIT.toLocaleString('en-US')} requests per hour per client, so every timed decision is an allow (checked: a refusal, or a cachekit decision taken by its failure policy, fails the run). Client keys like \`client:100000\` are taken in a random order (a seeded shuffle made before timing, the same for every contender) over ${SMALL.toLocaleString('en-US')} clients, and for the second in-flight column over ${LARGE.toLocaleString('en-US')}. Client versions: redis (node-redis) ${version('redis')}, rate-limiter-flexible ${version('rate-limiter-flexible')}, express-rate-limit ${version('express-rate-limit')}, rate-limit-redis ${version('rate-limit-redis')}.`,
      `"1 at a time": ${SERIAL_BATCH} awaited decisions in a row per timed call, over 10k clients. "100 in flight": ${IN_FLIGHT} callers each awaiting its own decisions in a loop over the contender's one connection, ${PARALLEL_BATCH.toLocaleString('en-US')} decisions per timed call. In-process rows: ${MEMORY_BATCH.toLocaleString('en-US')} awaited decisions per timed call. decisions/s is ${roundsNote(options)}. "cachekit ÷ row" is the median of per-round ratios of the matching cachekit row (1 policy, 2 policies, memory, or blocked key) to the row; the targets use it.`,
      `Round trips: each contender, on its own connection through a loopback proxy that counts every time the client starts sending after the server has answered, makes decisions one at a time on the otherwise idle server; the columns are averages over ${COUNTED} decisions (on ${COUNTED} different keys). "commands" is the INFO commandstats delta over the same decisions, per decision: it includes the commands a script runs inside the server (one EVALSHA that runs TIME, GET and SET is one round trip), and a pipelined MULTI … EXEC is one round trip for several commands. Commands sent together before any reply (RateLimiterUnion's two EVALs, issued in parallel) are one round trip too: the network sees one turn, the server runs both. "requests / decision, 100 in flight" counts the commands each client sent through the same proxy (top-level RESP arrays: a script call is one request) while ${IN_FLIGHT} callers made ${LOADED.toLocaleString('en-US')} decisions, divided by the decisions: batching the decisions in flight together would bring it below 1. "Redis CPU / decision" is the server's own time for those commands (INFO commandstats \`usec\` of the script or transaction, nested commands included), from the same decisions: with 100 in flight the single-threaded server, not the client, sets the pace.`,
      '',
      '### Redis: decisions per second',
      '',
      table(
        [
          'Contender',
          '1 at a time, 10k',
          'cachekit ÷ row',
          '100 in flight, 10k',
          'cachekit ÷ row',
          '100 in flight, 100k',
          'cachekit ÷ row',
          'requests / decision, 100 in flight',
          'round trips / decision, 1 at a time',
          'commands / decision',
          'Redis CPU / decision',
        ],
        redisRows,
      ),
      '',
      '### In process, and blocked keys',
      '',
      `Decisions answered without Redis. The blocked-key rows: ${BLOCKED_KEYS.toLocaleString('en-US')} keys blocked beforehand (limit 1 per hour, then blocked for an hour), each decision a refusal (checked); cachekit answers them from its deny cache, rate-limiter-flexible from its \`inMemoryBlockOnConsumed\` block list. Both are compared with "cachekit on Redis, blocked key".`,
      '',
      table(['Contender', 'decisions/s, 1 at a time', 'cachekit ÷ row'], memoryRows),
      '',
      '### Round trips per decision, case by case',
      '',
      table(['Contender', 'Case', 'round trips / decision', 'commands / decision', 'answer'], caseRows),
      '',
      wrong.size + [...loaded.values()].filter((l) => l.wrong > 0).length === 0
        ? 'Every decision of the timed and counted runs was what the run expects (checked).'
        : `Decisions that were not what the run expects (a cachekit decision taken by its failure policy under load, say; counted, not retried): ${[...wrong].map(([who, n]) => `${who} ${n} in the timed runs`).join('; ')}${[
            ...loaded,
          ]
            .filter(([, l]) => l.wrong > 0)
            .map(([who, l]) => `; ${who} ${l.wrong} in the counted run`)
            .join('')}. A cachekit row with any is not a Redis figure, and its targets are marked not met.`,
      '',
      'Contenders:',
      '',
      ...stack.contenders.map((c) => `- **${c.name}**: ${c.note}`),
      '',
      `Cross-check of the throughput target: fastest round against fastest round, cachekit ÷ RateLimiterRedis is ${ratio(best(CK, RLF, 'parallel 10k'))} with 100 in flight and ${ratio(best(CK, RLF, 'serial'))} one at a time; the median of per-round ratios (the target's figure) is ${ratio(vs(byName.get(RLF)!, 'parallel 10k'))} and ${ratio(vs(byName.get(RLF)!, 'serial'))}. When the two disagree, the rounds were disturbed by other load (see the load average above) and neither figure is firm.`,
      '',
      `cachekit: 1 round trip per decision ${met(targets.slice(0, 4).every((t) => t.met))} (1 policy, 2 policies, the refusal that starts a block, a blocked key without deny cache); blocked key with deny cache ${met(targets[4]!.met)} at 0 round trips; ÷ rate-limiter-flexible on Redis, 100 in flight: ${targets[5]!.measured} (10k clients) ${met(targets[5]!.met)}, ${targets[6]!.measured} (100k) ${met(targets[6]!.met)}; requests per decision with ${IN_FLIGHT} in flight: ${targets[7]!.measured} ${met(targets[7]!.met)}.`,
    ].join('\n')
    return { body, targets }
  } finally {
    await stack.close()
  }
}

/** Decisions that were not what the run expects (a cachekit decision taken by its failure policy under load, say), by row. */
function task(c: Contender, run: Run, order: Uint32Array, wrong: Map<string, number>): OpTask {
  const name = `${c.name} ${run}`
  const decide = async (j: number) => {
    if ((await c.decide(order[j]!)) !== c.expect) wrong.set(c.name, (wrong.get(c.name) ?? 0) + 1)
  }
  if (run !== 'serial') return inFlightTask(name, IN_FLIGHT, PARALLEL_BATCH, order.length, decide)
  return serialTask(name, c.redis ? SERIAL_BATCH : MEMORY_BATCH, order.length, decide)
}
