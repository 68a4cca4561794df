import cliProgress from 'cli-progress'

/** A progress line on stderr (count, rate and, with a total, ETA); a no-op when disabled. */
export interface Progress {
  /** Adds `n` to the count. */
  add(n: number): void
  /** Raises the total (a scan can find more than was counted). */
  setTotal(total: number): void
  readonly value: number
  stop(): void
}

/**
 * Starts a progress line on stderr. Without a TTY (a pipe, a CI log) it still prints, once a
 * second, so a long job in a log shows it is alive. `total` undefined: count and rate only.
 */
export function startProgress(label: string, total: number | undefined, enabled: boolean): Progress {
  let value = 0
  const started = performance.now()
  if (!enabled) {
    return {
      add: (n) => {
        value += n
      },
      setTotal: () => {},
      get value() {
        return value
      },
      stop: () => {},
    }
  }
  const format =
    total === undefined
      ? `${label} {value} keys | {rate}/s | {duration_formatted}`
      : `${label} [{bar}] {percentage}% | {value}/{total} keys | {rate}/s | ETA {eta_formatted}`
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format,
    noTTYOutput: true,
    notTTYSchedule: 1000,
    fps: 5,
    etaBuffer: 100,
    etaAsynchronousUpdate: true,
    hideCursor: false,
    barsize: 24,
    linewrap: false,
  })
  bar.start(total ?? 0, 0, { rate: '0' })
  const rate = () => {
    const seconds = (performance.now() - started) / 1000
    return seconds > 0 ? Math.round(value / seconds).toLocaleString('en-US') : '0'
  }
  return {
    add(n) {
      value += n
      bar.update(value, { rate: rate() })
    },
    setTotal(next) {
      if (total !== undefined && next > bar.getTotal()) bar.setTotal(next)
    },
    get value() {
      return value
    },
    stop() {
      bar.update(value, { rate: rate() })
      bar.stop()
    },
  }
}
