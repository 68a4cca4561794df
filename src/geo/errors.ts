import { CacheError } from '../errors.js'

/** A longitude/latitude outside what Redis GEO accepts, or not a number. */
export class InvalidCoordinatesError extends CacheError {
  static override readonly code = 'E_INVALID_COORDINATES'
}
