import { CacheError } from '../errors.js'

/**
 * `adminHandler` (or a framework's `adminPage`) was created without an `authorize` function. The
 * admin page can read and delete every key: it never serves anyone the app did not let in.
 */
export class AdminAuthorizationRequiredError extends CacheError {
  static override readonly code = 'E_ADMIN_AUTHORIZE_REQUIRED'
}
