/**
 * The benchmark configurations of the models issue: one training step (forward over the sequence,
 * BPTT, Adam update) in float32. Shared by every framework's runner so that all measure the same work.
 * C2u is C2 with scangrad's recurrent layer written by a user (bench/userLstmCell.ts) instead of
 * `nn.lstm`; it has no peers (they run C2) and `npm run bench` times it beside `nn.lstm`.
 */
export interface BenchConfig {
  readonly name: 'C1' | 'C2' | 'C2u' | 'C3' | 'C4'
  readonly description: string
  readonly cell: 'elman' | 'lstm'
  readonly batch: number
  readonly time: number
  readonly inputSize: number
  readonly hidden: number
  /** Input encoding: dense features or one-hot symbols. */
  readonly input: 'dense' | 'oneHot'
  /** 'lastSoftmax': dense softmax on the last step; 'stepSoftmax': per-step softmax; 'stepLinear': per-step linear + MSE. */
  readonly head: 'lastSoftmax' | 'stepSoftmax' | 'stepLinear'
  readonly outputs: number
  /** The recurrent layer is `nn.recurrent` over the user-written `userLstmSpec`, not `nn.lstm`. */
  readonly userCell?: true
}

export const configs: readonly BenchConfig[] = [
  { name: 'C1', description: 'Elman tanh B64 T28 in28 H128, dense softmax head (10)', cell: 'elman', batch: 64, time: 28, inputSize: 28, hidden: 128, input: 'dense', head: 'lastSoftmax', outputs: 10 },
  { name: 'C2', description: 'LSTM B32 T64 one-hot 64, H256, per-step softmax (64)', cell: 'lstm', batch: 32, time: 64, inputSize: 64, hidden: 256, input: 'oneHot', head: 'stepSoftmax', outputs: 64 },
  { name: 'C2u', description: 'C2 with a user-written LSTM cell (nn.recurrent over a CellSpec)', cell: 'lstm', batch: 32, time: 64, inputSize: 64, hidden: 256, input: 'oneHot', head: 'stepSoftmax', outputs: 64, userCell: true },
  { name: 'C3', description: 'Elman tanh B1 T300 in1 H3, per-step linear, MSE', cell: 'elman', batch: 1, time: 300, inputSize: 1, hidden: 3, input: 'dense', head: 'stepLinear', outputs: 1 },
  { name: 'C4', description: 'Elman tanh B128 T32 in256 H512, per-step linear (256), MSE', cell: 'elman', batch: 128, time: 32, inputSize: 256, hidden: 512, input: 'dense', head: 'stepLinear', outputs: 256 },
]

export const configByName = (name: string): BenchConfig => {
  const config = configs.find((c) => c.name === name)
  if (config === undefined) throw new Error(`bench: unknown configuration ${name}; expected one of ${configs.map((c) => c.name).join(', ')}`)
  return config
}

/** Median of some numbers. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Deterministic pseudo-random numbers for benchmark inputs (a fixed LCG: data values do not matter here). */
export const benchData = (n: number, seed: number): Float32Array => {
  const out = new Float32Array(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 32 - 0.5
  }
  return out
}

/**
 * The warm-up every runner does before it times (bench/torchRunner.py repeats the rule): at least
 * `minSteps` steps, then more until `maxSteps` steps or `seconds` have passed. Training runs for
 * thousands of steps, so the benchmark times the steady state; the JIT-compiled frameworks (V8 runs
 * scangrad, tfjs and jax-js) reach it only after some steps, while a slow framework's step
 * (tfjs-wasm on C4: 10 s) is not repeated for long. scangrad's C1 step was still getting faster
 * after 30 steps: medians of steps 20–29, 30–39 and 100–199 in three processes were 16.2, 9.0, 8.6;
 * 11.5, 10.3, 9.1; and 14.1, 15.4, 12.7 ms (one-thread FMA build), so up to 100 steps are run.
 */
export const WARMUP = { minSteps: 2, maxSteps: 100, seconds: 3 } as const

/** Runs `step` as `WARMUP` says; returns the number of warm-up steps. */
export const warmUp = async (step: () => unknown): Promise<number> => {
  const start = performance.now()
  let n = 0
  while (n < WARMUP.minSteps || (n < WARMUP.maxSteps && performance.now() - start < WARMUP.seconds * 1000)) {
    await step()
    n++
  }
  return n
}

/** One line of results a runner prints as JSON on stdout. */
export interface BenchResult {
  readonly framework: string
  readonly config: string
  readonly medianMs: number
  readonly steps: number
  /** Steps run before timing (see `WARMUP`). */
  readonly warmupSteps: number
  readonly peakRssMb: number
}

/** Runs each variant once per round after one warm-up round; per variant the times in ms. */
export const interleaved = (variants: Record<string, () => unknown>, rounds: number): Record<string, number[]> => {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let round = 0; round <= rounds; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const start = performance.now()
      run()
      if (round > 0) times[name].push(performance.now() - start)
    }
  }
  return times
}
