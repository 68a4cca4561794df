import type { FastifyInstance } from 'fastify'

/** A callback-style Fastify plugin, as `app.register()` takes it. */
export type HookPlugin = (fastify: FastifyInstance, _opts: unknown, done: (err?: Error) => void) => void

/** The `done` of a callback-style `onSend` hook. */
export type OnSendDone = (err: Error | null, payload?: unknown) => void

/**
 * Marks a plugin as fastify-plugin does, without depending on it: its hooks apply to the instance
 * that registers it (encapsulation skipped), and Fastify shows it under `displayName`. Give it a
 * named function so stack traces name it.
 */
export function openPlugin<P extends HookPlugin>(displayName: string, plugin: P): P {
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: displayName,
  })
  return plugin
}
