/**
 * @file `npm run bench:compare -- --base DIR --configs C1,C2 [--steps N]`: one training step of the
 * benchmark configurations on two builds of scangrad in ONE process, alternating step by step: this
 * checkout and the checkout in DIR (another commit, e.g. `git worktree add DIR REV`, with
 * `node_modules` linked and `npx tsc -p tsconfig.bench.json` run there). A slow spell of the VM hits
 * both builds alike, so the median of the per-pair ratios new / base says whether a change made a
 * step slower, where separate processes vary by more than the change. One thread, plain SIMD.
 * C2u (the user-written LSTM cell, bench/userLstmCell.ts of each build) alternates with C2 as well,
 * and adds each build's user cell / nn.lstm ratio, in wall time and in process CPU time (which a
 * loaded machine disturbs less; it counts the garbage collector's helper threads too).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { configByName, median } from './configs.js'

const { values } = parseArgs({
  options: { base: { type: 'string' }, configs: { type: 'string', default: 'C1,C2,C3,C4' }, steps: { type: 'string' } },
})
if (values.base === undefined) throw new Error('bench:compare: --base DIR is required (a checkout with its .bench-build compiled).')

type Library = typeof import('../src/index.js') & { readonly userLstmSpec: typeof import('./userLstmCell.js').userLstmSpec }
const load = async (dir: string): Promise<Library> => ({
  ...(await import(pathToFileURL(resolve(dir, '.bench-build/src/index.js')).href)),
  userLstmSpec: (await import(pathToFileURL(resolve(dir, '.bench-build/bench/userLstmCell.js')).href)).userLstmSpec,
})
const libraries = { base: await load(values.base), new: await load(process.cwd()) }

/** Default pairs of steps per configuration: enough for a stable median in about a minute. */
const DEFAULT_STEPS: Record<string, number> = { C1: 400, C2: 40, C2u: 30, C3: 3000, C4: 16 }

/** A step's wall time and the process's CPU time over it, in ms. */
interface Timed {
  readonly wall: number
  readonly cpu: number
}

/** One training step of configuration `name` on library L (its own backend), timed. */
const stepper = (L: Library, name: string): (() => Timed) => {
  const c = configByName(name)
  L.useKernels(L.loadWasmKernels({ relaxedSimd: false }))
  const sizes = { inputSize: c.inputSize, hiddenSize: c.hidden }
  const recurrent = c.userCell ? L.nn.recurrent(L.userLstmSpec, sizes) : c.cell === 'lstm' ? L.nn.lstm(sizes) : L.nn.elman({ ...sizes, activation: 'tanh' })
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
    const [start, cpu] = [performance.now(), process.cpuUsage()]
    const result = step(params, state, { x, y })
    params = result.params as never
    state = result.optState as never
    const used = process.cpuUsage(cpu)
    return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 }
  }
}

console.log(`# one training step, float32, one thread: this checkout (new) against ${values.base} (base), alternating in one process`)
console.log('| config | pairs | base ms | new ms | new / base (median of pairs) |')
console.log('|---|---:|---:|---:|---:|')
const userCell: string[] = []
for (const name of values.configs.split(',').filter(Boolean)) {
  const sides = ['base', 'new'] as const
  const runs = Object.fromEntries(sides.map((side) => [side, stepper(libraries[side], name)])) as Record<(typeof sides)[number], () => Timed>
  // The user cell's nn.lstm (C2), stepped in the same alternation.
  const builtIn = name === 'C2u' ? Object.fromEntries(sides.map((side) => [side, stepper(libraries[side], 'C2')])) as typeof runs : null
  const pairs = values.steps === undefined ? DEFAULT_STEPS[name] ?? 20 : Number(values.steps)
  const warmUp = Math.max(3, pairs >> 3)
  const times = { base: [] as number[], new: [] as number[] }
  const ratios: number[] = []
  const userRatios = { base: { wall: [] as number[], cpu: [] as number[] }, new: { wall: [] as number[], cpu: [] as number[] } }
  for (let i = 0; i < pairs + warmUp; i++) {
    const order = i % 2 === 0 ? (['new', 'base'] as const) : (['base', 'new'] as const)
    const t = { base: { wall: 0, cpu: 0 }, new: { wall: 0, cpu: 0 } }
    const lstm = { base: { wall: 0, cpu: 0 }, new: { wall: 0, cpu: 0 } }
    for (const side of order) {
      t[side] = runs[side]()
      if (builtIn !== null) lstm[side] = builtIn[side]()
    }
    if (i < warmUp) continue
    times.base.push(t.base.wall)
    times.new.push(t.new.wall)
    ratios.push(t.new.wall / t.base.wall)
    for (const side of sides) for (const clock of ['wall', 'cpu'] as const) userRatios[side][clock].push(t[side][clock] / lstm[side][clock])
  }
  console.log(`| ${name} | ${pairs} | ${median(times.base).toFixed(3)} | ${median(times.new).toFixed(3)} | ${median(ratios).toFixed(3)} |`)
  if (builtIn !== null) {
    for (const side of sides) userCell.push(`| ${side} | ${median(userRatios[side].wall).toFixed(3)} | ${median(userRatios[side].cpu).toFixed(3)} |`)
  }
}
if (userCell.length > 0) {
  console.log('\n# C2u: user-written LSTM cell / nn.lstm, each build, median of per-step ratios')
  console.log('| build | wall time | CPU time |')
  console.log('|---|---:|---:|')
  for (const line of userCell) console.log(line)
}
