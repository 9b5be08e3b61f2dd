/**
 * TensorFlow.js peer for the training-step benchmark: the same models as scangrad's runner, built
 * with tf.layers and trained with trainOnBatch (Adam, float32). Usage:
 *   tsx bench/tfjsRunner.ts <C1|C2|C3|C4> <cpu|wasm> [steps]
 * Prints one JSON BenchResult line.
 */
import * as tf from '@tensorflow/tfjs'
import { type BenchConfig, benchData, configByName, median, warmUp } from './configs.js'

const buildModel = (c: BenchConfig): tf.LayersModel => {
  const perStep = c.head !== 'lastSoftmax'
  const recurrent = c.cell === 'lstm'
    ? tf.layers.lstm({ units: c.hidden, returnSequences: perStep, inputShape: [c.time, c.inputSize] })
    : tf.layers.simpleRNN({ units: c.hidden, activation: 'tanh', returnSequences: perStep, inputShape: [c.time, c.inputSize] })
  const dense = tf.layers.dense({ units: c.outputs, activation: c.head === 'stepLinear' ? 'linear' : 'softmax' })
  const model = tf.sequential({ layers: [recurrent, perStep ? tf.layers.timeDistributed({ layer: dense }) : dense] })
  model.compile({ optimizer: tf.train.adam(1e-3), loss: c.head === 'stepLinear' ? 'meanSquaredError' : 'categoricalCrossentropy' })
  return model
}

const oneHotData = (batch: number, time: number, n: number, seed: number): tf.Tensor => {
  const u = benchData(batch * time, seed)
  const indices = Array.from(u, (v) => Math.floor((v + 0.5) * n) % n)
  return tf.oneHot(tf.tensor1d(indices, 'int32'), n).reshape([batch, time, n]).toFloat()
}

const inputsFor = (c: BenchConfig): [tf.Tensor, tf.Tensor] => {
  const x = c.input === 'oneHot'
    ? oneHotData(c.batch, c.time, c.inputSize, 1)
    : tf.tensor3d(benchData(c.batch * c.time * c.inputSize, 1), [c.batch, c.time, c.inputSize])
  const y = c.head === 'lastSoftmax'
    ? oneHotData(c.batch, 1, c.outputs, 2).reshape([c.batch, c.outputs])
    : c.head === 'stepSoftmax'
      ? oneHotData(c.batch, c.time, c.outputs, 2)
      : tf.tensor3d(benchData(c.batch * c.time * c.outputs, 2), [c.batch, c.time, c.outputs])
  return [x, y]
}

const main = async (): Promise<void> => {
  const [name = 'C1', backend = 'cpu', stepsArg = '10'] = process.argv.slice(2)
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm')
  await tf.setBackend(backend)
  await tf.ready()
  const c = configByName(name)
  const model = buildModel(c)
  const [x, y] = inputsFor(c)
  const steps = Number(stepsArg)
  const warmupSteps = await warmUp(() => model.trainOnBatch(x, y)) // the first builds the graph and allocates
  const times: number[] = []
  for (let i = 0; i < steps; i++) {
    const start = performance.now()
    await model.trainOnBatch(x, y)
    times.push(performance.now() - start)
  }
  console.log(JSON.stringify({
    framework: `tfjs-${backend}`, config: c.name, medianMs: median(times), steps, warmupSteps,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }))
}

await main()
