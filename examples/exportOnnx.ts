/**
 * Trains a small LSTM briefly (the mean of a noisy sequence, read at its last step), exports it
 * with `io.toOnnx`, runs the ONNX model in onnxruntime-web (its WebAssembly build, from
 * node_modules, one thread) and prints the largest difference from scangrad's own `apply`, at a
 * batch size and sequence length the model never saw.
 *
 *   npm run build && npx tsx examples/exportOnnx.ts [out.onnx]
 */
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-web'
import { type Tensor, grad, io, mean, mul, nn, normal, randomKey, splitKey, square, sub, treeMap } from 'scangrad'

const model = nn.sequenceModel({
  recurrent: nn.lstm({ inputSize: 1, hiddenSize: 8, numLayers: 2, bidirectional: true }),
  output: nn.linear({ inputSize: 16, outputSize: 1 }),
  readout: 'lastStep',
})
const [initKey, dataKey, checkKey] = splitKey(randomKey(0), 3)
const xs = normal(dataKey, [32, 10, 1], { dtype: 'float32' })
const ys = mean(xs, 1) // [32, 1]: the mean of each sequence
const loss = (p: nn.SequenceParams) => mean(square(sub(model.apply(p, xs), ys)))

let params = model.init(initKey, { dtype: 'float32' })
for (let step = 1; step <= 90; step++) {
  const g = grad(loss)(params)
  params = treeMap((p: Tensor, d: Tensor) => sub(p, mul(d, 0.2)), params, g)
  if (step % 30 === 0) console.log(`step ${step}: training MSE ${loss(params).item().toFixed(5)}`)
}

const bytes = io.toOnnx(model, params)
const out = process.argv[2]
if (out !== undefined) await io.writeFileAtomic(out, bytes)
console.log(`exported ${bytes.length} bytes of ONNX${out === undefined ? '' : ` to ${out}`}`)

ort.env.wasm.numThreads = 1
ort.env.wasm.wasmPaths = fileURLToPath(new URL('../node_modules/onnxruntime-web/dist/', import.meta.url))
// Severity 3 (errors): not the warning that h0 and c0 are initializers, which is what makes them optional.
const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })
const probe = normal(checkKey, [5, 23, 1], { dtype: 'float32' }) // batch 5, 23 steps: not the training shape
const result = await session.run({ x: new ort.Tensor('float32', probe.data as Float32Array, [...probe.shape]) })
await session.release()
const expected = model.applyWithState(params, probe)
const largest = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(b, (v, k) => Math.abs(v - a[k])))
console.log(`onnxruntime-web vs apply: largest difference ${largest(result.y.data as Float32Array, expected.predictions.data).toExponential(2)} in y, ` +
  `${largest(result.h_n.data as Float32Array, (expected.state.h as Tensor).data).toExponential(2)} in h_n, ` +
  `${largest(result.c_n.data as Float32Array, (expected.state.c as Tensor).data).toExponential(2)} in c_n`)
