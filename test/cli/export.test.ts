import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { loadRun } from '../../src/cli/runner.js'
import { normal, randomKey, type Tensor } from '../../src/index.js'
import { relativeGap, runOnnx } from '../helpers/onnxRuntime.js'
import { cli, runExample, tempDir } from './helpers.js'

const dir = tempDir()

/** A run folder's model and parameters, as evaluate and predict load them. */
const runModel = async (run: string) => {
  const loaded = await loadRun(run)
  if (E.isLeft(loaded)) throw loaded.left
  const { experiment, params } = loaded.right
  return { model: experiment.network as { apply(p: unknown, x: Tensor): Tensor }, params }
}

/** The exported file, run in onnxruntime-web on xs, gives the run's own predictions to `tolerance` (relative). */
const expectLikeTheRun = async (run: string, file: string, xs: Tensor, tolerance: number): Promise<void> => {
  const { model, params } = await runModel(run)
  const { y } = await runOnnx(await readFile(file), { x: xs })
  expect(relativeGap(y, model.apply(params, xs))).toBeLessThan(tolerance)
}

describe('scangrad export --format onnx', () => {
  it('exports a trained names run (gru) that runs in onnxruntime-web like the run\'s own model', async () => {
    const run = join(dir, 'names')
    const trained = await cli(['train', '--task', 'names', '--cell', 'gru', '--train-size', '64', '--hidden', '6', '--epochs', '1', '--samples', '1', '--quiet', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
    const out = join(dir, 'names.onnx')
    const exported = await cli(['export', '--from', run, '--format', 'onnx', '--out', out])
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout).toContain(`wrote ${out}`)
    const params = (await runModel(run)).params
    const features = (params as { output: { w: Tensor } }).output.w.shape[1]
    await expectLikeTheRun(run, out, normal(randomKey(5), [3, 4, features], { dtype: 'float32' }), 1e-5)
  })

  it('exports a trained oscillator run (nn.seedNetwork, Elman) that runs in onnxruntime-web like the run\'s own model', async () => {
    const run = join(dir, 'oscillator')
    // The oscillator trains in float64; export writes a float32 graph by default (onnxruntime has no
    // double RNN kernel), so the graph agrees with the float64 model to float32 rounding: 1e-4, not 1e-5.
    const trained = await cli(['train', '--task', 'oscillator', '--epochs', '1', '--activation', 'sigmoid', '--quiet', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
    const out = join(dir, 'oscillator.onnx')
    const exported = await cli(['export', '--from', run, '--format', 'onnx', '--out', out])
    expect(exported.code, exported.stderr).toBe(0)
    // Batch 3 and 9 steps: neither is what training or the export's probe used.
    await expectLikeTheRun(run, out, normal(randomKey(6), [3, 9, 1], { dtype: 'float32' }), 1e-4)
  })

  it('refuses a run whose model cannot be exported, in one line, and writes nothing', async () => {
    const run = join(dir, 'leaky')
    const trained = await cli(['train', '--task', 'oscillator', '--epochs', '1', '--activation', 'leakyRelu', '--quiet', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
    const out = join(dir, 'leaky.onnx')
    const { code, stderr } = await cli(['export', '--from', run, '--out', out])
    expect(code).toBe(2)
    expect(stderr).toMatch(/^scangrad export: .* holds a run of --task oscillator whose model cannot be exported: io\.toOnnx: nn\.seedNetwork layer 0 has an activation ONNX's RNN node cannot express: only tanh, relu and sigmoid/)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(existsSync(out)).toBe(false)
    const format = await cli(['export', '--from', run, '--format', 'tflite', '--out', out])
    expect(format.code).toBe(2)
    expect(format.stderr).toContain('--format must be onnx')
  })

  it('examples/exportOnnx.ts trains, exports and prints differences below 1e-5', async () => {
    const stdout = await runExample('exportOnnx', [join(dir, 'example.onnx')])
    const gaps = [...stdout.matchAll(/(\d\.\d+e[-+]\d+) in (y|h_n|c_n)/g)].map((m) => Number(m[1]))
    expect(gaps).toHaveLength(3)
    for (const gap of gaps) expect(gap).toBeLessThan(1e-5)
    expect(existsSync(join(dir, 'example.onnx'))).toBe(true)
  })
})

