import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The installed version of a package, for the report ('unknown' when it cannot be read). */
export function version(name: string): string {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string
    }
    return pkg.version
  } catch {
    return 'unknown'
  }
}
