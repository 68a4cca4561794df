import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import ts from 'typescript'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { DURATION_UNITS, type Duration, durationToMs, type Ttl } from '../../src/internal/duration.js'
import { parseRule, type RuleString } from '../../src/ratelimit/rules.js'

describe('Duration (type)', () => {
  it('takes milliseconds, every unit spelling, decimals, blanks and short sums', () => {
    const ok: Duration[] = [
      250,
      '250ms',
      '30s',
      '30 sec',
      '2secs',
      '1second',
      '5seconds',
      '5m',
      '5min',
      '5mins',
      '1minute',
      '5 minutes',
      '1h',
      '2hr',
      '1hour',
      '2hours',
      '1d',
      '1day',
      '2days',
      '1w',
      '1week',
      '2weeks',
      '1.5h',
      '1h30m',
      '1h 30m',
      '1h30m15s',
    ]
    expect(ok.every((d) => durationToMs(d) !== undefined)).toBe(true)
    expectTypeOf<null>().toMatchTypeOf<Ttl>()
    expectTypeOf<null>().not.toMatchTypeOf<Duration>()
  })

  it('rejects what the parser rejects', () => {
    // @ts-expect-error no unit
    const a: Duration = '5'
    // @ts-expect-error misspelt unit
    const b: Duration = '5 minutez'
    // @ts-expect-error upper case
    const c: Duration = '5M'
    // @ts-expect-error not a duration
    const d: Duration = 'soon'
    // @ts-expect-error no number
    const e: Duration = 'minutes'
    // @ts-expect-error empty
    const f: Duration = ''
    // @ts-expect-error infinite
    const g: Duration = 'Infinityms'
    for (const bad of [a, b, c, d, e, f, g]) expect(durationToMs(bad)).toBeUndefined()
    // The documented approximation: a sum of long spellings, or of four parts, parses but does not type-check.
    // @ts-expect-error a sum in long spellings
    const long: Duration = '1hour 30mins'
    // @ts-expect-error a sum of four parts
    const four: Duration = '1d2h3m4s'
    expect([durationToMs(long), durationToMs(four)]).toEqual([5_400_000, 93_784_000])
  })

  it('rule strings take a unit or a duration after the slash', () => {
    const ok: RuleString[] = ['100/hour', '5/min', '10/15m', '3/1h30m', '1000/day', '7/hr', '2/weeks']
    for (const rule of ok) expect(parseRule('x', rule).limit).toBeGreaterThan(0)
    // @ts-expect-error misspelt unit
    const a: RuleString = '5/minut'
    // @ts-expect-error no window
    const b: RuleString = '100'
    for (const bad of [a, b]) expect(() => parseRule('x', bad)).toThrow(/'100\/hour'/)
  })
})

// The type and the parser, compared on generated strings: each sample becomes a line
// `export const vN: Duration = '...'` of one in-memory file, and the compiler's errors say which
// ones the type refuses. Numbers are plain decimals, where the type is exact (see DurationString).
const here = fileURLToPath(new URL('.', import.meta.url))
const sampleFile = `${here}__duration_samples__.ts`

function typeAccepts(type: 'Duration' | 'RuleString', samples: readonly string[]): boolean[] {
  const source = [
    "import type { Duration } from '../../src/internal/duration.js'",
    "import type { RuleString } from '../../src/ratelimit/rules.js'",
    ...samples.map((s, i) => `export const v${i}: ${type} = ${JSON.stringify(s)}`),
  ].join('\n')
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version, ...rest) =>
    name === sampleFile ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => name === sampleFile || fileExists(name)
  const program = ts.createProgram([sampleFile], options, host)
  const file = program.getSourceFile(sampleFile) as ts.SourceFile
  const refused = new Set<number>()
  for (const diagnostic of program.getSemanticDiagnostics(file)) {
    const line = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line
    if (diagnostic.code !== 2322)
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    refused.add(line - 2)
  }
  return samples.map((_, i) => !refused.has(i))
}

const SPELLINGS = Object.keys(DURATION_UNITS)
const SHORT = new Set(['ms', 's', 'm', 'h', 'd', 'w'])
const MISSPELT = ['', 'M', 'H', 'Min', 'mn', 'minutez', 'hrs', 'y', 'mo', 'msec', 'sek', 'wk', 'x']
const number = fc.oneof(
  fc.nat({ max: 10_000 }).map(String),
  fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`),
)
const part = fc.record({
  number,
  unit: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SPELLINGS) }, fc.constantFrom(...MISSPELT)),
  blank: fc.constantFrom('', ' '),
})
const duration = fc
  .record({ parts: fc.array(part, { minLength: 1, maxLength: 4 }), sep: fc.constantFrom('', ' ') })
  .map(({ parts, sep }) => ({
    text: parts.map((p) => `${p.number}${p.blank}${p.unit}`).join(sep),
    // Where the type is exact: one part, or sums of two or three parts in the short units.
    typed: parts.length === 1 || (parts.length <= 3 && parts.every((p) => SHORT.has(p.unit))),
  }))
const seed = 20261207

describe('Duration (type) and durationToMs (parser) agree', () => {
  it('on generated strings', () => {
    const samples = fc.sample(duration, { numRuns: 400, seed })
    const accepted = typeAccepts(
      'Duration',
      samples.map((s) => s.text),
    )
    samples.forEach((sample, i) => {
      const parsed = durationToMs(sample.text) !== undefined
      // The type never takes what the parser refuses; it takes all it parses, within its shape.
      if (accepted[i]) expect(parsed, sample.text).toBe(true)
      else if (sample.typed) expect(parsed, sample.text).toBe(false)
    })
    expect(accepted.filter(Boolean).length).toBeGreaterThan(50)
    expect(accepted.filter((a) => !a).length).toBeGreaterThan(50)
  }, 60_000)

  it('on generated rule strings', () => {
    const rules = fc.sample(
      fc.record({
        limit: fc.integer({ min: 1, max: 1000 }),
        window: fc.oneof(
          fc.constantFrom(...SPELLINGS, ...MISSPELT),
          duration.filter((d) => d.typed).map((d) => d.text),
        ),
      }),
      { numRuns: 200, seed },
    )
    const texts = rules.map((r) => `${r.limit}/${r.window}`)
    const accepted = typeAccepts('RuleString', texts)
    texts.forEach((text, i) => {
      let error: unknown
      try {
        parseRule('x', text)
      } catch (e) {
        error = e
      }
      // The parser also bounds the window (whole milliseconds, 1 ms to 366 days): not the type's job.
      const outOfRange = error instanceof Error && /window must be/.test(error.message)
      if (!outOfRange) expect(error === undefined, text).toBe(accepted[i])
    })
  }, 60_000)
})
