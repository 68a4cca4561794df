/**
 * Ctrl-C for long jobs: the first SIGINT asks the job to stop after the batch in hand (it then
 * reports what it did and exits 130); a second one exits at once with 130.
 */
export interface Interrupt {
  readonly stopped: boolean
  dispose(): void
}

export function onInterrupt(): Interrupt {
  let stopped = false
  const handler = () => {
    if (stopped) process.exit(130)
    stopped = true
    process.stderr.write('\nInterrupted: finishing the batch in hand (Ctrl-C again to quit now)\n')
  }
  process.on('SIGINT', handler)
  return {
    get stopped() {
      return stopped
    },
    dispose() {
      process.off('SIGINT', handler)
    },
  }
}
