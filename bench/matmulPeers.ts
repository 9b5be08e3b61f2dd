/**
 * @file The peers of `npm run bench:matmul`: one float32 n×n product in PyTorch (one thread, in a
 * child process), TensorFlow.js's wasm backend and jax-js's wasm device, as GFLOP/s (2·n³ / time)
 * medians and best runs after a warm-up. Each peer that cannot run gets a row saying why.
 */
import { execFileSync } from 'node:child_process'
import { blockUntilReady, init, numpy as np } from '@jax-js/jax'
import * as tf from '@tensorflow/tfjs'

interface Rate { readonly median: number; readonly best: number; readonly note?: string }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/** Runs `product` for `warmupMs`, then `runs` more times; GFLOP/s of the median and best run. */
const rate = async (n: number, product: () => Promise<void>, runs = 20, warmupMs = 400): Promise<Rate> => {
  const until = performance.now() + warmupMs
  while (performance.now() < until) await product()
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    const start = performance.now()
    await product()
    times.push(performance.now() - start)
  }
  const gflops = (ms: number): number => (2 * n ** 3) / (ms * 1e6)
  return { median: gflops(median(times)), best: gflops(Math.min(...times)) }
}

const operand = (n: number): Float32Array => Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.7))

const torchRate = (n: number): Rate => {
  const out = execFileSync('/usr/bin/python3', ['bench/torchMatmul.py', String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const { medianGflops, bestGflops, blas } = JSON.parse(out) as { medianGflops: number; bestGflops: number; blas: string }
  return { median: medianGflops, best: bestGflops, note: blas }
}

const tfjsWasmRate = async (n: number): Promise<Rate> => {
  await import('@tensorflow/tfjs-backend-wasm')
  await tf.setBackend('wasm')
  const a = tf.tensor2d(operand(n), [n, n])
  const b = tf.tensor2d(operand(n), [n, n])
  return rate(n, async () => {
    const c = tf.matMul(a, b)
    await c.data() // the wasm backend computes synchronously; reading waits for the result anyway
    c.dispose()
  })
}

/** jax-js takes ownership of arguments: `.ref` keeps the operands alive across products. */
const jaxRate = async (n: number): Promise<Rate> => {
  await init('wasm')
  const a = np.array(operand(n), { shape: [n, n], device: 'wasm' })
  const b = np.array(operand(n), { shape: [n, n], device: 'wasm' })
  return rate(n, async () => {
    const c = np.matmul(a.ref, b.ref)
    await blockUntilReady(c) // jax-js dispatches lazily
    c.dispose()
  })
}

const peers: readonly [string, (n: number) => Rate | Promise<Rate>][] = [
  ['PyTorch 1 thread', torchRate],
  ['tfjs-wasm', tfjsWasmRate],
  ['jax-js wasm', jaxRate],
]

/** Markdown rows: peer, n, median and best GFLOP/s, and a note (PyTorch's BLAS, or why a peer failed). */
export const matmulPeerRows = async (n: number): Promise<string[]> => {
  const rows = ['', `| peer, float32 | n | median GFLOP/s | best GFLOP/s | note |`, '|---|---:|---:|---:|---|']
  for (const [name, measure] of peers) {
    try {
      const r = await measure(n)
      rows.push(`| ${name} | ${n} | ${r.median.toFixed(1)} | ${r.best.toFixed(1)} | ${r.note ?? ''} |`)
    } catch (error) {
      rows.push(`| ${name} | ${n} | | | unavailable: ${(error as Error).message.split('\n')[0]} |`)
    }
  }
  return rows
}
