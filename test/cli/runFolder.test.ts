/**
 * Reading run folders: malformed or mismatched checkpoints and configs are reported by
 * `evaluate`, `predict` and `train --resume` in one line with no stack trace, and a folder that
 * holds a run is never overwritten.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeCheckpoint, loadCheckpoint } from '../../src/io/checkpoint.js'
import { cli, lines, tempDir } from './helpers.js'

const dir = tempDir()
const good = join(dir, 'good')

/** The good run's checkpoint with the wider run's tensors (config and descriptions unchanged). */
let wrongShapes: Uint8Array

beforeAll(async () => {
  const run = await cli(['train', '--task', 'oscillator', '--epochs', '2', '--quiet', '--out', good])
  expect(run.code).toBe(0)
  const other = await cli(['train', '--task', 'oscillator', '--hidden', '5', '--epochs', '1', '--quiet', '--out', join(dir, 'wider')])
  expect(other.code).toBe(0)
  const [mine, theirs] = await Promise.all([loadCheckpoint(checkpoint(good)), loadCheckpoint(checkpoint(join(dir, 'wider')))])
  if (E.isLeft(mine) || E.isLeft(theirs)) throw new Error('cannot read the checkpoints')
  wrongShapes = encodeCheckpoint({ ...mine.right, params: theirs.right.params, optState: theirs.right.optState })
})

/** A copy of the good run, damaged by `damage`. */
const damaged = (name: string, damage: (folder: string) => void): string => {
  const folder = join(dir, name)
  cpSync(good, folder, { recursive: true })
  damage(folder)
  return folder
}

const checkpoint = (folder: string) => join(folder, 'checkpoint.safetensors')
const config = (folder: string) => join(folder, 'config.json')
const editConfig = (folder: string, edit: (c: Record<string, unknown>) => Record<string, unknown>) =>
  writeFileSync(config(folder), JSON.stringify(edit(JSON.parse(readFileSync(config(folder), 'utf8')))))

const cases: Array<[string, (folder: string) => void, RegExp]> = [
  ['a truncated checkpoint', (f) => writeFileSync(checkpoint(f), readFileSync(checkpoint(f)).subarray(0, 100)), /checkpoint\.safetensors: .*(truncated|short|ends|bytes)/i],
  ['a checkpoint of random bytes', (f) => writeFileSync(checkpoint(f), Buffer.from('not a safetensors file at all, just some text')), /checkpoint\.safetensors: /],
  ['a missing checkpoint', (f) => rmSync(checkpoint(f)), /checkpoint\.safetensors: no such file\. .*metrics\.json records 2 completed epochs but their checkpoint is gone; restore it, or start a new run\./],
  ['the checkpoint of another run', (f) => cpSync(checkpoint(join(dir, 'wider')), checkpoint(f)), /saved with another config .*hidden: 5 in the checkpoint, 3 in config\.json/],
  ['a config edited to another model', (f) => editConfig(f, (c) => ({ ...c, hidden: 4 })), /saved with another config .*hidden: 3 in the checkpoint, 4 in config\.json/],
  ['a checkpoint whose tensors do not fit its config', (f) => writeFileSync(checkpoint(f), wrongShapes), /tensor 'params\.recurrent\.wLayer_l0': expected shape \[1, 3\], found \[1, 5\] \(and \d+ more problems\)/],
  ['a config edited in a setting the tensors do not show', (f) => editConfig(f, (c) => ({ ...c, learningRate: 0.5 })), /saved with another config .*learningRate: 0\.001 in the checkpoint, 0\.5 in config\.json/],
  ['a config that is not JSON', (f) => writeFileSync(config(f), '{"task": "oscillator",'), /config\.json: the run config is not valid JSON/],
  ['a config with invalid fields', (f) => editConfig(f, (c) => ({ ...c, epochs: 'ten', dtype: 'float16' })), /\/epochs: expected a positive integer, got "ten"; .*\/dtype: expected one of "float32", "float64", got "float16"/],
  ['a config of an unknown task', (f) => editConfig(f, (c) => ({ ...c, task: 'sound' })), /\/task: expected one of "mnist", .* got "sound"/],
  ['a missing config', (f) => rmSync(config(f)), /config\.json: no such file; is this a scangrad run folder/],
]

describe('malformed run folders: one-line errors, exit 1', () => {
  it.each(cases)('%s', async (name, damage, message) => {
    const folder = damaged(name.replace(/\W+/g, '-'), damage)
    for (const argv of [['evaluate', '--from', folder], ['predict', '--from', folder], ['train', '--resume', folder, '--epochs', '3']]) {
      const { code, stdout, stderr } = await cli(argv)
      expect(code, `${argv.join(' ')}: ${stderr}`).toBe(1)
      expect(stdout).toBe('')
      expect(lines(stderr), stderr).toHaveLength(1)
      expect(stderr).toMatch(message)
      expect(stderr).not.toMatch(/\n\s+at /)
    }
  })
})

describe('run folders in use', () => {
  it('evaluate and predict work on a good folder', async () => {
    const evaluation = await cli(['evaluate', '--from', good])
    expect(evaluation.code).toBe(0)
    expect(evaluation.stdout).toMatch(/oscillator: MSE \d/)
  })

  it('train --out refuses a folder that holds a run', async () => {
    const { code, stderr } = await cli(['train', '--task', 'oscillator', '--out', good])
    expect(code).toBe(2)
    expect(stderr).toContain(`${good} already holds a run (checkpoint.safetensors); continue it with --resume ${good}`)
  })

  it('a folder that does not exist', async () => {
    const { code, stderr } = await cli(['evaluate', '--from', join(dir, 'nowhere')])
    expect([code, lines(stderr).length]).toEqual([1, 1])
    expect(stderr).toContain('no such run folder')
  })
})
