/**
 * @file `npm run bench:compare -- --base DIR --configs C1,C2 [--steps N]`: one training step of the
 * benchmark configurations on two builds of scangrad in ONE process, alternating step by step: this
 * checkout and the checkout in DIR (another commit, e.g. `git worktree add DIR REV`, with
 * `node_modules` linked and `npx tsc -p tsconfig.bench.json` run there). A slow spell of the VM hits
 * both builds alike, so the median of the per-pair ratios new / base says whether a change made a
 * step slower, where separate processes vary by more than the change. One thread, plain SIMD.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { configByName, median } from './configs.js'

const { values } = parseArgs({
  options: { base: { type: 'string' }, configs: { type: 'string', default: 'C1,C2,C3,C4' }, steps: { type: 'string' } },
})
if (values.base === undefined) throw new Error('bench:compare: --base DIR is required (a checkout with its .bench-build compiled).')

type Library = typeof import('../src/index.js')
const load = async (dir: string): Promise<Library> => import(pathToFileURL(resolve(dir, '.bench-build/src/index.js')).href) as Promise<Library>
const libraries = { base: await load(values.base), new: await load(process.cwd()) }

/** Default pairs of steps per configuration: enough for a stable median in about a minute. */
const DEFAULT_STEPS: Record<string, number> = { C1: 400, C2: 40, C3: 3000, C4: 16 }

/** One training step of configuration `name` on library L (its own backend), timed. */
const stepper = (L: Library, name: string): (() => number) => {
  const c = configByName(name)
  L.useKernels(L.loadWasmKernels({ relaxedSimd: false }))
  const recurrent = c.cell === 'lstm'
    ? L.nn.lstm({ inputSize: c.inputSize, hiddenSize: c.hidden })
    : L.nn.elman({ inputSize: c.inputSize, hiddenSize: c.hidden, activation: 'tanh' })
  const model = L.nn.sequenceModel({
    recurrent: recurrent as never, output: L.nn.linear({ inputSize: c.hidden, outputSize: c.outputs }),
    readout: c.head === 'lastSoftmax' ? 'lastStep' : 'perStep',
  })
  const symbols = (n: number, classes: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (i * 7919 + seed * 31) % classes)
  const dtype = 'float32' as const
  const x = c.input === 'oneHot'
    ? L.oneHot(L.tensor(symbols(c.batch * c.time, c.inputSize, 1), { shape: [c.batch, c.time] }), c.inputSize, { dtype })
    : L.normal(L.randomKey(1), [c.batch, c.time, c.inputSize], { dtype })
  const y = c.head === 'lastSoftmax'
    ? L.oneHot(symbols(c.batch, c.outputs, 2), c.outputs, { dtype })
    : c.head === 'stepSoftmax'
      ? L.oneHot(L.tensor(symbols(c.batch * c.time, c.outputs, 2), { shape: [c.batch, c.time] }), c.outputs, { dtype })
      : L.normal(L.randomKey(2), [c.batch, c.time, c.outputs], { dtype })
  const loss = (p: never, b: { x: typeof x; y: typeof y }) =>
    c.head === 'stepLinear' ? L.losses.mse(model.apply(p, b.x), b.y) : L.losses.softmaxCrossEntropy(model.apply(p, b.x), b.y)
  const optimizer = L.optim.adam(1e-3)
  const step = L.train.makeTrainStep(loss, optimizer)
  let params = model.init(L.randomKey(0), { dtype }) as never
  let state = optimizer.init(params) as never
  return () => {
    const start = performance.now()
    const result = step(params, state, { x, y })
    params = result.params as never
    state = result.optState as never
    return performance.now() - start
  }
}

console.log(`# one training step, float32, one thread: this checkout (new) against ${values.base} (base), alternating in one process`)
console.log('| config | pairs | base ms | new ms | new / base (median of pairs) |')
console.log('|---|---:|---:|---:|---:|')
for (const name of values.configs.split(',').filter(Boolean)) {
  const runs = { base: stepper(libraries.base, name), new: stepper(libraries.new, name) }
  const pairs = values.steps === undefined ? DEFAULT_STEPS[name] ?? 20 : Number(values.steps)
  const warmUp = Math.max(3, pairs >> 3)
  const times = { base: [] as number[], new: [] as number[] }
  const ratios: number[] = []
  for (let i = 0; i < pairs + warmUp; i++) {
    const order = i % 2 === 0 ? (['new', 'base'] as const) : (['base', 'new'] as const)
    const t = { base: 0, new: 0 }
    for (const side of order) t[side] = runs[side]()
    if (i < warmUp) continue
    times.base.push(t.base)
    times.new.push(t.new)
    ratios.push(t.new / t.base)
  }
  console.log(`| ${name} | ${pairs} | ${median(times.base).toFixed(3)} | ${median(times.new).toFixed(3)} | ${median(ratios).toFixed(3)} |`)
}
