import { InvalidOptionError } from '../errors.js'
import { InvalidCoordinatesError } from './errors.js'

/** The earth radius Redis uses for GEO distances, in metres (geohash_helper.c). */
export const EARTH_RADIUS_M = 6372797.560856

/** Redis's coordinate limits: the latitude range is the one Web Mercator can show. */
export const LON_LIMIT = 180
export const LAT_LIMIT = 85.05112878

/** The distance units a geo index takes and returns. */
export type GeoUnit = 'm' | 'km' | 'mi' | 'ft'

/** Metres per unit, as Redis converts them. */
export const UNIT_METRES: Readonly<Record<GeoUnit, number>> = { m: 1, km: 1000, mi: 1609.34, ft: 0.3048 }

/** A point on Earth in degrees: longitude and latitude. */
export interface GeoPoint {
  readonly lon: number
  readonly lat: number
}

export function checkPoint(point: unknown, what = 'point'): GeoPoint {
  const p = point as Partial<GeoPoint> | null
  const lon = p?.lon
  const lat = p?.lat
  if (
    typeof lon !== 'number' ||
    typeof lat !== 'number' ||
    !(Math.abs(lon) <= LON_LIMIT) ||
    !(Math.abs(lat) <= LAT_LIMIT)
  ) {
    throw new InvalidCoordinatesError(
      `Invalid ${what} ${JSON.stringify({ lon, lat })}: pass { lon, lat } with lon in [-180, 180] and lat in [-${LAT_LIMIT}, ${LAT_LIMIT}]`,
    )
  }
  return { lon, lat }
}

export function checkUnit(unit: unknown): GeoUnit {
  if (typeof unit === 'string' && Object.hasOwn(UNIT_METRES, unit)) return unit as GeoUnit
  throw new InvalidOptionError(`Unknown distance unit ${JSON.stringify(unit)}: use 'm', 'km', 'mi' or 'ft'`)
}

/** Where Redis's 52-bit geohash puts a coordinate on one axis: the centre of its cell. */
function cellCentre(value: number, min: number, max: number): number {
  const cells = 2 ** 26
  const index = Math.floor(((value - min) / (max - min)) * cells)
  const low = min + (index / cells) * (max - min)
  const high = min + ((index + 1) / cells) * (max - min)
  return Math.min(max, Math.max(min, (low + high) / 2))
}

/** The point as Redis stores it (GEOADD keeps a 52-bit geohash, not the exact coordinates). */
export function quantize(point: GeoPoint): GeoPoint {
  return {
    lon: cellCentre(point.lon, -LON_LIMIT, LON_LIMIT),
    lat: cellCentre(point.lat, -LAT_LIMIT, LAT_LIMIT),
  }
}

const rad = (deg: number) => (deg * Math.PI) / 180

/** Haversine distance in metres, computed as Redis does (geohashGetDistance). */
export function distanceMetres(a: GeoPoint, b: GeoPoint): number {
  const v = Math.sin((rad(b.lon) - rad(a.lon)) / 2)
  if (v === 0) return EARTH_RADIUS_M * Math.abs(rad(b.lat) - rad(a.lat))
  const u = Math.sin((rad(b.lat) - rad(a.lat)) / 2)
  const h = u * u + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * v * v
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h))
}
