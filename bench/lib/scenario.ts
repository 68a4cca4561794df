/** The contract between a scenario file and `bench/run.ts`. */

/** One target from the issue, judged against this run's measurements. */
export interface Target {
  /** What is compared, e.g. `cachekit get hit vs awaited lru-cache get`. */
  readonly name: string
  /** The bar, e.g. `>= 0.6x`. */
  readonly goal: string
  /** What this run measured, e.g. `0.72x`. */
  readonly measured: string
  readonly met: boolean
}

export interface ScenarioReport {
  /** Markdown: what was measured, how, and the tables. */
  readonly body: string
  readonly targets: readonly Target[]
}

export interface RunOptions {
  /** A short smoke run (`npm run bench -- --quick`): fewer rounds and entries; numbers are rough. */
  readonly quick: boolean
}

export interface Scenario {
  /** Section heading in RESULTS.md. */
  readonly title: string
  run(options: RunOptions): Promise<ScenarioReport>
}

/** Identity helper, so a scenario file gets its type checked where it is written. */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario
}

/** A target of the form `measured >= goal` (or `<=`), formatted as ratios. */
export function ratioTarget(name: string, measured: number, comparison: '>=' | '<=', goal: number): Target {
  const met = comparison === '>=' ? measured >= goal : measured <= goal
  return { name, goal: `${comparison} ${goal}x`, measured: `${measured.toFixed(2)}x`, met }
}

/** Progress on stderr, so stdout stays clean for whoever pipes the runner. */
export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`)
}
