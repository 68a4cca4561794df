import type { GeoPoint, GeoUnit } from './math.js'

/** Options of `geo.near`: the unit of the radius and distances, and how many results at most. */
export interface NearOptions {
  /** The unit of `radius` and of the distances returned. Default `'m'`. */
  readonly unit?: GeoUnit
  /** At most this many hits, the nearest first. Default: all within the radius. */
  readonly limit?: number
}

/** A point found by {@link GeoIndex.near}: its id, distance from the centre and stored position. */
export interface GeoHit extends GeoPoint {
  readonly id: string
  /** In the unit asked for, rounded to 4 decimals as Redis replies. */
  readonly distance: number
}

/**
 * A named set of points. Positions are kept at Redis's geohash precision (52 bits: within about
 * 0.6 m), by the memory version too, so both return the same coordinates and distances.
 */
export interface GeoIndex {
  readonly name: string
  /** Adds a point, or moves it if the id exists. */
  add(id: string, point: GeoPoint): Promise<void>
  /** Adds or moves many points in one round trip (per 1000). */
  addMany(points: Iterable<readonly [string, GeoPoint]>): Promise<void>
  /** Moves an existing point; false (and nothing added) if the id is unknown. */
  move(id: string, point: GeoPoint): Promise<boolean>
  /** Removes a point; false if it was not there. */
  remove(id: string): Promise<boolean>
  /** Where a point is stored, or undefined. */
  get(id: string): Promise<GeoPoint | undefined>
  /** Points within `radius` of `center`, nearest first. */
  near(center: GeoPoint, radius: number, options?: NearOptions): Promise<GeoHit[]>
  size(): Promise<number>
  /** Removes every point of this index (only its own key on Redis). */
  clear(): Promise<void>
}

/** The checked parts of a `near` call. */
export interface NearQuery {
  readonly center: GeoPoint
  readonly radius: number
  readonly unit: GeoUnit
  readonly limit: number | undefined
}
