import { InvalidOptionError } from '../../errors.js'
import { passwordOf, percentDecode, secretForms } from '../../internal/index.js'
import type { SqlDialectName } from './dialect.js'

const SCHEMES: Readonly<Record<string, SqlDialectName>> = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'sqlite:': 'sqlite',
}

/** The dialect a URL's scheme names, or undefined for an unknown scheme. */
export function dialectOfUrl(url: string): SqlDialectName | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase()
  return scheme === undefined ? undefined : SCHEMES[scheme]
}

/** The password in a URL, as written, decoded and encoded, so that it can be scrubbed from messages. */
export function passwordsOfUrl(url: string): string[] {
  return secretForms(passwordOf(url))
}

/**
 * The file of an SQLite URL: `sqlite::memory:`, `sqlite:cache.db` and `sqlite://cache.db`
 * (relative), `sqlite:///var/cache.db` (absolute).
 */
export function sqlitePathOfUrl(url: string): string {
  const rest = url.replace(/^sqlite:/i, '')
  const path = rest.startsWith('//') ? rest.slice(2) : rest
  if (path === '') throw new InvalidOptionError("sqlStore url 'sqlite:' needs a path: sqlite:cache.db")
  const file = percentDecode(path)
  if (file === undefined) {
    throw new InvalidOptionError(
      `sqlStore url: the path "${path}" is not valid percent-encoding (encode % as %25)`,
    )
  }
  return file
}
