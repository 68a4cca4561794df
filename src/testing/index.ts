export {
  type ConformanceOptions,
  ROUND_TRIP_VALUES,
  runStoreConformance,
  type TestApi,
} from './conformance.js'
