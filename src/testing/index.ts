export { type ConformanceOptions, runStoreConformance, type TestApi } from './conformance.js'
export { ROUND_TRIP_VALUES } from './values.js'
