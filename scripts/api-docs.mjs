// Writes docs/API.md: every export of every public door (package.json "exports"), with its kind
// and the first sentence of its TSDoc, read from the sources with the TypeScript compiler.
// `--check` (run by `npm test`) writes nothing and fails when an export has no TSDoc or when
// docs/API.md is not what this script would write.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = fileURLToPath(new URL('..', import.meta.url))
const output = join(root, 'docs', 'API.md')
const check = process.argv.includes('--check')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

const doors = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types)
  .map(([subpath, target]) => ({
    name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
    file: join(root, target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')),
  }))

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.build.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  },
)
const program = ts.createProgram(
  doors.map((d) => d.file),
  { ...config.options, noEmit: true },
)
const checker = program.getTypeChecker()

function kindOf(symbol) {
  const flags = symbol.flags
  if (flags & ts.SymbolFlags.Class) return 'class'
  if (flags & ts.SymbolFlags.Function) return 'function'
  if (flags & ts.SymbolFlags.Interface) return 'interface'
  if (flags & ts.SymbolFlags.TypeAlias) return 'type'
  if (flags & ts.SymbolFlags.Enum) return 'enum'
  if (flags & ts.SymbolFlags.Variable) return 'const'
  return 'export'
}

function summary(symbol) {
  let text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()
  if (text === '') {
    // A function's TSDoc sits on its (first) signature.
    for (const declaration of symbol.declarations ?? []) {
      const signature = ts.isFunctionLike(declaration)
        ? checker.getSignatureFromDeclaration(declaration)
        : undefined
      text = signature ? ts.displayPartsToString(signature.getDocumentationComment(checker)).trim() : ''
      if (text !== '') break
    }
  }
  if (text === '') return ''
  const paragraph = text.split(/\n\s*\n/)[0].replace(/\s+/g, ' ')
  const sentence = paragraph.match(/^.*?[.!?](?=\s|$)/)?.[0] ?? paragraph
  return sentence.replace(/\|/g, '\\|')
}

const undocumented = []
const lines = [
  '# API reference',
  '',
  '<!-- Written by `node scripts/api-docs.mjs` from the TSDoc in src/; `npm test` checks it is current. -->',
  '',
  'Every export of every door, with the first sentence of its TSDoc. The README explains how the',
  'parts fit together; hover any name in your editor for its whole documentation.',
  '',
]
for (const door of doors) {
  const source = program.getSourceFile(door.file)
  const moduleSymbol = source && checker.getSymbolAtLocation(source)
  if (!moduleSymbol) throw new Error(`${door.file} is not a module`)
  const exported = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name))
  lines.push(`## \`${door.name}\``, '', '| export | kind | what it is |', '| --- | --- | --- |')
  for (const symbol of exported) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
    const text = summary(target) || summary(symbol)
    if (text === '') undocumented.push(`${door.name}: ${symbol.name}`)
    lines.push(`| \`${symbol.name}\` | ${kindOf(target)} | ${text} |`)
  }
  lines.push('')
}
const written = lines.join('\n')

if (undocumented.length > 0) {
  console.error(`exports without TSDoc (${undocumented.length}):\n- ${undocumented.join('\n- ')}`)
}
if (check) {
  let current = ''
  try {
    current = readFileSync(output, 'utf8')
  } catch {}
  if (current !== written) console.error('docs/API.md is out of date: run `node scripts/api-docs.mjs`')
  if (undocumented.length > 0 || current !== written) process.exit(1)
  console.log(`API reference OK: ${doors.length} doors, every export documented`)
} else {
  writeFileSync(output, written)
  console.log(`wrote docs/API.md (${doors.length} doors)`)
  if (undocumented.length > 0) process.exitCode = 1
}
