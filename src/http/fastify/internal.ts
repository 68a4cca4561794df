// Internal door: what code outside http/fastify/ uses from it beyond its public
// door, index.ts. Never in package.json "exports".

export type { FastifySessionStore } from './session.js'
export { fastifySessionStore, SNAPSHOT_FIELD } from './session.js'
