/**
 * scangrad's side of the training-step benchmark, through the public API only: a sequence model
 * (Elman or LSTM body, dense head; on C2u the LSTM body is the user-written cell of
 * bench/userLstmCell.ts under `nn.recurrent`), Adam, one update per step. Usage:
 *   tsx bench/scangradRunner.ts <C1|C2|C2u|C3|C4> <float32|float64> [steps] [js|wasm|wasm2][+fma]
 * Prints one JSON BenchResult line.
 */
import {
  type DType, type Kernels, type Tensor, jsKernels, loadThreadedWasmKernels, loadWasmKernels, losses, nn, oneHot, optim, randomKey,
  tensor, train, useKernels,
} from '../src/index.js'
import { enableRelaxedSimd, nodeWorkers } from '../src/node.js'
import { type BenchConfig, benchData, configByName, median, warmUp } from './configs.js'
import { userLstmSpec } from './userLstmCell.js'

const symbols = (n: number, classes: number, seed: number): number[] =>
  Array.from(benchData(n, seed), (v) => Math.floor((v + 0.5) * classes) % classes)

const buildModel = (c: BenchConfig) => {
  const output = nn.linear({ inputSize: c.hidden, outputSize: c.outputs })
  const readout = c.head === 'lastSoftmax' ? 'lastStep' : 'perStep'
  if (c.userCell) return nn.sequenceModel({ recurrent: nn.recurrent(userLstmSpec, { inputSize: c.inputSize, hiddenSize: c.hidden }), output, readout })
  return c.cell === 'lstm'
    ? nn.sequenceModel({ recurrent: nn.lstm({ inputSize: c.inputSize, hiddenSize: c.hidden }), output, readout })
    : nn.sequenceModel({ recurrent: nn.elman({ inputSize: c.inputSize, hiddenSize: c.hidden, activation: 'tanh' }), output, readout })
}

const batchFor = (c: BenchConfig, dtype: DType): { inputs: Tensor; targets: Tensor } => {
  const inputs = c.input === 'oneHot'
    ? oneHot(tensor(symbols(c.batch * c.time, c.inputSize, 1), { shape: [c.batch, c.time] }), c.inputSize, { dtype })
    : tensor(benchData(c.batch * c.time * c.inputSize, 1), { shape: [c.batch, c.time, c.inputSize], dtype })
  const targets = c.head === 'lastSoftmax'
    ? oneHot(symbols(c.batch, c.outputs, 2), c.outputs, { dtype })
    : c.head === 'stepSoftmax'
      ? oneHot(tensor(symbols(c.batch * c.time, c.outputs, 2), { shape: [c.batch, c.time] }), c.outputs, { dtype })
      : tensor(benchData(c.batch * c.time * c.outputs, 2), { shape: [c.batch, c.time, c.outputs], dtype })
  return { inputs, targets }
}

/**
 * The kernels of a backend name: js, wasm (one thread) or wasm2 (the threaded backend, two threads),
 * with `+fma` after relaxed SIMD is turned on (Node 20 has it behind a flag).
 */
const kernelsFor = async (spec: string): Promise<Kernels> => {
  const [backend, fma] = spec.split('+')
  if (fma === 'fma' && !enableRelaxedSimd()) throw new Error('bench: this host has no WebAssembly relaxed SIMD')
  if (backend === 'js') return jsKernels
  if (backend === 'wasm') return loadWasmKernels()
  if (backend === 'wasm2') return loadThreadedWasmKernels({ createWorker: nodeWorkers, threads: 2 })
  throw new Error(`bench: unknown backend ${backend}; expected js, wasm or wasm2`)
}

const main = async (): Promise<void> => {
  const [name = 'C1', dtypeArg = 'float32', stepsArg = '10', backend = 'js'] = process.argv.slice(2)
  const dtype = dtypeArg as DType
  const kernels = await kernelsFor(backend)
  useKernels(kernels)
  const c = configByName(name)
  const model = buildModel(c)
  const lossOn = c.head === 'stepLinear' ? losses.mse : losses.softmaxCrossEntropy
  const loss = (params: ReturnType<typeof model.init>, batch: { inputs: Tensor; targets: Tensor }) =>
    lossOn(model.apply(params, batch.inputs), batch.targets)
  const optimizer = optim.adam(1e-3)
  const step = train.makeTrainStep(loss, optimizer)
  let params = model.init(randomKey(0), { dtype })
  let optState = optimizer.init(params)
  const batch = batchFor(c, dtype)
  const steps = Number(stepsArg)
  const trainStep = (): void => {
    const result = step(params, optState, batch)
    params = result.params
    optState = result.optState
  }
  const warmupSteps = await warmUp(trainStep)
  const times: number[] = []
  for (let i = 0; i < steps; i++) {
    const start = performance.now()
    trainStep()
    times.push(performance.now() - start)
  }
  console.log(JSON.stringify({
    framework: `scangrad-${kernels.name}-${dtype}`, config: c.name, medianMs: median(times), steps, warmupSteps,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }))
}

await main()
