/**
 * Data files shared beside the repository and never copied into it: `../shared/data/<name>`, found
 * one way, relative to the repository root (this file's location), whatever the working directory.
 * Outside CI a test that needs a missing file is skipped; in CI (`CI` set, as CI services do) it
 * runs and fails, so a missing file cannot pass as a green suite.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** The repository root: two folders up from test/helpers/. */
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url))

/** Whether `env` says we run in CI (`CI` set to anything but '', '0' or 'false'). */
export const inCi = (env: Readonly<Record<string, string | undefined>> = process.env): boolean =>
  env.CI !== undefined && !['', '0', 'false'].includes(env.CI.toLowerCase())

export interface SharedData {
  /** The absolute path. */
  readonly path: string
  /** Skip the tests that need it: the file is missing and this is not CI. */
  readonly skip: boolean
  /** The path, or a thrown error saying which file is missing and where it is looked for. */
  readonly require: () => string
}

/** `../shared/data/<name>` beside the repository. */
export const sharedData = (name: string, env: Readonly<Record<string, string | undefined>> = process.env): SharedData => {
  const path = join(REPOSITORY, '..', 'shared', 'data', name)
  const present = existsSync(path)
  return {
    path,
    skip: !present && !inCi(env),
    require: () => {
      if (!present) throw new Error(`test data ${name} is missing: expected ${path} (../shared/data/ beside the repository); CI must provide it.`)
      return path
    },
  }
}

/** The seed's weather data (13,509 days; columns tmax, tmin, rain, tmax_tomorrow). */
export const weather = sharedData('clean_weather.csv')
