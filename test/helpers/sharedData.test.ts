/** The shared-data lookup: one path, relative to the repository; skipped outside CI only. */
import { describe, expect, it } from 'vitest'
import { inCi, sharedData, weather } from './sharedData.js'

describe('sharedData', () => {
  it('looks beside the repository, whatever the working directory', () => {
    expect(weather.path).toMatch(/[\\/]shared[\\/]data[\\/]clean_weather\.csv$/)
    expect(weather.path.startsWith('/') || /^[A-Z]:/.test(weather.path)).toBe(true)
  })

  it('a missing file is skipped outside CI, and fails (is not skipped) in CI', () => {
    expect(sharedData('no-such-file.csv', {}).skip).toBe(true)
    const inCiRun = sharedData('no-such-file.csv', { CI: 'true' })
    expect(inCiRun.skip).toBe(false)
    expect(() => inCiRun.require()).toThrow(/test data no-such-file\.csv is missing: expected .*no-such-file\.csv/)
  })

  it('reads CI as CI services set it', () => {
    expect([inCi({}), inCi({ CI: '' }), inCi({ CI: 'false' }), inCi({ CI: '0' }), inCi({ CI: 'true' }), inCi({ CI: '1' })]).toEqual([false, false, false, false, true, true])
  })
})
