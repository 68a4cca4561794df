import fc from 'fast-check'

/**
 * Random cache values: JSON-like data plus every extra type cachekit keeps (bigint, undefined,
 * Date, Map, Set, typed arrays), nested at any depth. With `encoded`, only values that come back
 * equal after bytes: msgpack writes -0 as 0 (documented), a Map keyed by a typed array cannot be
 * compared after a copy, and Set members stay primitive.
 */
export function cacheValue(options: { readonly encoded: boolean }): fc.Arbitrary<unknown> {
  const { encoded } = options
  return fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.string(),
      encoded ? fc.double().map((d) => (Object.is(d, -0) ? 0 : d)) : fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.bigInt(),
      fc.date({ noInvalidDate: false }),
      fc.uint8Array({ maxLength: 16 }),
    ),
    node: fc.oneof(
      { depthSize: 'small' },
      tie('leaf'),
      fc.array(tie('node'), { maxLength: 4 }),
      // Null-prototype objects come back as ordinary objects (documented), so generate ordinary ones.
      fc.dictionary(
        fc.string().filter((k) => k !== '__proto__'),
        tie('node'),
        { maxKeys: 4, noNullPrototype: true },
      ),
      fc
        .array(fc.tuple(tie('leaf'), tie('node')), { maxLength: 3 })
        .map((entries) => new Map(encoded ? entries.filter(([k]) => !(k instanceof Uint8Array)) : entries)),
      encoded
        ? fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }).map((items) => new Set(items))
        : fc.array(tie('node'), { maxLength: 3 }).map((items) => new Set(items)),
    ),
  })).node
}
