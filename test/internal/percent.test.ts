/** The one percent-encoding: key terms encode with it, URLs and secrets decode with it. */
import { describe, expect, it } from 'vitest'
import { percentDecode, percentEncode } from '../../src/internal/percent.js'
import { sqlStore } from '../../src/stores/sql/index.js'

describe('percent-encoding', () => {
  it('encodes only the characters asked for, as UTF-8 bytes in upper-case hex', () => {
    expect(percentEncode('a:b%c,d', /[%:,]/g)).toBe('a%3Ab%25c%2Cd')
    expect(percentEncode('é', /é/g)).toBe('%C3%A9')
    expect(percentEncode('plain', /[%:]/g)).toBe('plain')
  })

  it('decodes, and says undefined for what is not percent-encoding', () => {
    expect(percentDecode('p%40ss%3Aword')).toBe('p@ss:word')
    expect(percentDecode(percentEncode('a:é%', /[:é%]/g))).toBe('a:é%')
    expect(percentDecode('100%')).toBeUndefined()
    expect(percentDecode('%C3')).toBeUndefined()
  })

  it('a SQLite URL with a broken escape is an invalid option, not a URIError', () => {
    expect(() => sqlStore({ url: 'sqlite:cache%zz.db' })).toThrow(
      expect.objectContaining({
        code: 'E_INVALID_OPTION',
        message: expect.stringContaining('percent-encoding'),
      }),
    )
  })
})
