/**
 * A benchmark child process driven over IPC (`fork`): requests go out with `send`, replies come
 * back tagged by `type` and are taken in order by type with `next`. Used by the cross-process
 * scenarios (invalidation latency, channel latency).
 */
import { type ChildProcess, fork } from 'node:child_process'

export class IpcChild<Request extends { type: string }, Reply extends { type: string }> {
  readonly #process: ChildProcess
  readonly #replies: Reply[] = []
  readonly #waiting: { type: Reply['type']; resolve: (reply: Reply) => void }[] = []
  #failure: Error | undefined

  /** Forks `script` with `args`; `label` names the child in errors. `close` is the request that ends it. */
  constructor(
    script: string,
    args: readonly string[],
    readonly label: string,
    readonly closing: Request,
  ) {
    this.#process = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#process.on('message', (reply: Reply) => {
      const at = this.#waiting.findIndex((w) => w.type === reply.type)
      if (at >= 0) this.#waiting.splice(at, 1)[0]?.resolve(reply)
      else this.#replies.push(reply)
    })
    this.#process.on('exit', (code) => {
      if (code !== 0) this.#failure = new Error(`${label} exited with code ${code}`)
    })
  }

  send(request: Request): void {
    this.#process.send(request)
  }

  next<T extends Reply['type']>(type: T, timeoutMs = 30_000): Promise<Extract<Reply, { type: T }>> {
    const at = this.#replies.findIndex((r) => r.type === type)
    if (at >= 0) return Promise.resolve(this.#replies.splice(at, 1)[0] as Extract<Reply, { type: T }>)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(this.#failure ?? new Error(`no ${type} from ${this.label} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiting.push({
        type,
        resolve: (reply) => {
          clearTimeout(timer)
          resolve(reply as Extract<Reply, { type: T }>)
        },
      })
    })
  }

  close(): void {
    if (this.#process.connected) this.#process.send(this.closing)
    setTimeout(() => this.#process.kill('SIGKILL'), 2_000).unref()
  }
}
