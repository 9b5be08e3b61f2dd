/**
 * @file Running exported ONNX models in the tests: onnxruntime-web's WebAssembly build from
 * node_modules on one thread (nothing is downloaded and no worker starts), a model run from tensors,
 * and the relative gap between its output and scangrad's.
 */
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-web'
import { expect } from 'vitest'
import type { Tensor } from '../../src/index.js'

ort.env.wasm.numThreads = 1
ort.env.wasm.wasmPaths = fileURLToPath(new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url))

/** Runs a model (bytes) in onnxruntime-web on named tensors; its outputs by name. */
export const runOnnx = async (bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> => {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })
  try {
    return await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.dtype, v.data, [...v.shape])])))
  } finally {
    await session.release()
  }
}

/** Largest |a − b| over the largest |b|, after checking the shapes agree. */
export const relativeGap = (a: ort.Tensor, b: Tensor): number => {
  expect([...a.dims]).toEqual([...b.shape])
  const data = a.data as Float32Array | Float64Array
  let gap = 0
  let scale = 1e-30
  for (let k = 0; k < b.data.length; k++) {
    gap = Math.max(gap, Math.abs(data[k] - b.data[k]))
    scale = Math.max(scale, Math.abs(b.data[k]))
  }
  return gap / scale
}
