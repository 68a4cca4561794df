import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { onInterrupt } from './interrupt.js'
import { EXIT, type Outcome } from './output.js'
import { startProgress } from './progress.js'

/**
 * `cachekit stats`: what the server says about the cache. Redis: version, memory and `maxmemory`,
 * eviction policy, hits, misses and hit rate, evictions, clients, keys (summed over Cluster
 * masters). SQL: the rows under the prefix, counted with progress (Ctrl-C stops the count).
 */
export async function statsCommand(ctx: CommandContext): Promise<Outcome> {
  return withConnection(ctx, async (connection) => {
    if (connection.redis) {
      const info = await connection.redis.inspect()
      const json = { store: 'redis', url: connection.safeUrl, ...info }
      return {
        code: EXIT.ok,
        json,
        text: [
          `store            redis (${info.topology}, ${info.nodes} master${info.nodes === 1 ? '' : 's'}) ${connection.safeUrl}`,
          `version          ${info.redisVersion}`,
          `memory           ${info.usedMemoryHuman} of ${info.maxmemory === 0 ? 'no limit' : info.maxmemoryHuman}`,
          `eviction policy  ${info.maxmemoryPolicy}`,
          `keys             ${info.dbSize}`,
          `hits / misses    ${info.keyspaceHits} / ${info.keyspaceMisses} (hit rate ${(info.hitRate * 100).toFixed(1)}%)`,
          `evicted/expired  ${info.evictedKeys} / ${info.expiredKeys}`,
          `clients          ${info.connectedClients}`,
          `uptime           ${info.uptimeSeconds} s`,
        ],
      }
    }
    const interrupt = onInterrupt()
    const progress = startProgress('counting', undefined, ctx.options.progress)
    let keys = 0
    try {
      for await (const _ of connection.cache.keys('*')) {
        if (++keys % 1000 === 0) {
          progress.add(1000)
          if (interrupt.stopped) break
        }
      }
    } finally {
      progress.add(keys % 1000)
      progress.stop()
      interrupt.dispose()
    }
    const dialect = connection.sql?.name ?? 'sql'
    return {
      code: interrupt.stopped ? EXIT.interrupted : EXIT.ok,
      json: { store: 'sql', dialect, url: connection.safeUrl, keys, interrupted: interrupt.stopped },
      text: [
        `store  ${dialect} ${connection.safeUrl}`,
        `keys   ${keys}${interrupt.stopped ? ' (interrupted)' : ''}`,
      ],
    }
  })
}
