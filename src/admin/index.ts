/**
 * `cachekit/admin`: the admin page as one web-standard handler. Mount it with `adminPage` from
 * `cachekit/express`, `cachekit/fastify` or `cachekit/hono`.
 */
export { CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER } from './csrf.js'
export { AdminAuthorizationRequiredError } from './errors.js'
export { type AdminHandler, adminHandler } from './handler.js'
export type { AdminOptions } from './options.js'
export { type Redactor, redactSecretFields } from './preview.js'
