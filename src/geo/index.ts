export { InvalidCoordinatesError } from './errors.js'
export { type GeoIndexOptions, geoIndex } from './geo-index.js'
export { distanceMetres, EARTH_RADIUS_M, type GeoPoint, type GeoUnit } from './math.js'
export type { GeoHit, GeoIndex, NearOptions } from './types.js'
