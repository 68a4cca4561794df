export { type ConformanceOptions, runStoreConformance } from './conformance.js'
export type { TestApi } from './suite.js'
export { ROUND_TRIP_VALUES } from './values.js'
