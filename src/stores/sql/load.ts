import { InvalidOptionError } from '../../errors.js'

/**
 * Imports a client library on first use, so that only the one a dialect needs must be installed.
 * A missing package becomes an {@link InvalidOptionError} that says what to install.
 */
export async function loadPackage<T>(name: string, dialect: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new InvalidOptionError(
        `sqlStore({ dialect: '${dialect}' }) needs the "${name}" package, which is not installed: npm install ${name}`,
        { cause: error },
      )
    }
    throw error
  }
}

/** The module's own exports, whether it was loaded as ESM or as CommonJS through `import()`. */
export function interop<T>(module: T | { default: T }): T {
  const withDefault = module as { default?: T }
  return withDefault.default ?? (module as T)
}
