/**
 * `npm run bench`: the training-step benchmark. Each (framework, configuration) pair runs in its own
 * child process, one after another, so that peak RSS is per process and no run warms another's
 * caches. Prints a table of median ms per step and the ratio of each framework to scangrad float32,
 * then a summary of the ratios the speed issue sets targets for.
 *   npm run bench -- [--configs C1,C2,C2u,C3,C4] [--steps 10]
 *     [--peers tfjs-cpu,tfjs-wasm,jax-js,pytorch-1t,pytorch-2t] [--skip C4:tfjs-cpu]
 *     [--scangrad wasm-float32,wasm-float64,wasm+fma-float32,wasm2-float32,wasm2-float64,wasm2+fma-float32,wasm2+fma-float64,js-float32]
 *     [--timeout 10] [--json out.json] [--repeat 1]
 * --skip takes config:framework pairs that are listed as skipped instead of run; --timeout is in
 * minutes per job. A peer that fails, times out or is not installed gets a row saying so. With
 * --repeat N every job of a configuration runs N times, in N rounds over all jobs (so that a slow
 * spell of the machine hits every framework alike); a row then gives the median of the N per-process
 * medians and their range, and peak RSS is the largest of the N.
 * The JavaScript runners (scangrad, tfjs, jax-js) are compiled first (tsconfig.bench.json, into
 * .bench-build/) and run by plain `node`, as a user's compiled program would: under a TypeScript
 * loader (tsx) each process would also carry the loader and the compiler, ≈ 40–50 MB of RSS that
 * belongs to none of the frameworks. A core gauge (bench/coreGauge.ts) runs before and after the
 * jobs, one process alone and two at once, to show how fast the cores were.
 * C2u (C2 with a user-written LSTM cell, bench/userLstmCell.ts) runs no peers: each scangrad variant
 * runs twice in every round, `nn.lstm` (C2's model) and the user's cell, and a last table gives the
 * median over rounds of user cell / `nn.lstm` per variant (the target of issue 18: ≤ 1.25).
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { type BenchResult, WARMUP, configs, median } from './configs.js'

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: configs.map((c) => c.name).join(',') },
    steps: { type: 'string', default: '10' },
    peers: { type: 'string', default: 'tfjs-cpu,tfjs-wasm,jax-js,pytorch-1t,pytorch-2t' },
    skip: { type: 'string', default: '' },
    scangrad: { type: 'string', default: 'wasm-float32,wasm-float64,wasm+fma-float32,wasm2-float32,wasm2-float64,wasm2+fma-float32,wasm2+fma-float64' },
    timeout: { type: 'string', default: '10' },
    json: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
})

const python = '/usr/bin/python3'
const list = (s: string): string[] => s.split(',').filter(Boolean)

/** A runner to start: `command args…` prints one JSON BenchResult line on stdout. */
interface Job { readonly label: string; readonly command: string; readonly args: readonly string[] }

/** What became of a job: its result, or why there is none. */
type Outcome =
  | { readonly kind: 'result'; readonly result: BenchResult & { readonly blas?: string } }
  | { readonly kind: 'missing'; readonly why: string }

/** Where tsconfig.bench.json puts the compiled src/ and bench/. */
const BUILD = '.bench-build'

/** Compiles src/ and bench/ into BUILD, so that the runners start without a TypeScript loader. */
const compileRunners = (): void => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.bench.json'], { stdio: 'inherit' })
}

/**
 * The core gauge (bench/coreGauge.ts), one process alone and then two at once: on a shared VM the
 * cores' speeds drift and need not match, and this line says what the jobs around it ran on.
 */
const gauge = (): string => {
  const script = `${BUILD}/bench/coreGauge.js`
  const node = JSON.stringify(process.execPath)
  const alone = execFileSync(process.execPath, [script], { encoding: 'utf8' }).trim()
  const pair = execFileSync('sh', ['-c', `${node} ${script} & ${node} ${script}; wait`], { encoding: 'utf8' }).trim().split('\n')
  return `core gauge (float32 256² product, GFLOP/s): one process ${alone}; two at once ${pair.join(' and ')}`
}

/** A JavaScript runner, `bench/<name>.ts` as compiled into BUILD. */
const nodeJob = (label: string, name: string, args: string[]): Job =>
  ({ label, command: process.execPath, args: [`${BUILD}/bench/${name}.js`, ...args] })

/**
 * A scangrad variant `<backend>[+fma]-<dtype>`: backend js, wasm (one thread) or wasm2 (the
 * threaded backend, two threads); `+fma` turns relaxed SIMD on first (`enableRelaxedSimd` from
 * scangrad/node; the default from Node 22), so the kernels take fused multiply-adds.
 */
const scangradJob = (config: string, variant: string, suffix = ''): Job => {
  const [backendSpec, dtype] = variant.split('-')
  return nodeJob(`scangrad ${backendSpec} ${dtype}${suffix}`, 'scangradRunner', [config, dtype, values.steps!, backendSpec])
}

/** C2u's jobs: per scangrad variant, `nn.lstm` on C2's model and then the user-written cell. */
const USER_CELL = ' user cell'
const BUILT_IN = ' nn.lstm'
const userCellJobs = (variant: string): Job[] => [scangradJob('C2', variant, BUILT_IN), scangradJob('C2u', variant, USER_CELL)]

const peerJob = (config: string, peer: string): Job => {
  const steps = values.steps!
  if (peer === 'tfjs-cpu' || peer === 'tfjs-wasm') return nodeJob(peer, 'tfjsRunner', [config, peer.slice(5), steps])
  if (peer === 'jax-js') return nodeJob('jax-js jit', 'jaxRunner', [config, steps])
  const threads = /^pytorch-(\d+)t$/.exec(peer)?.[1]
  if (threads !== undefined) return { label: peer, command: python, args: ['bench/torchRunner.py', config, threads, steps] }
  throw new Error(`bench: unknown peer ${peer}; expected tfjs-cpu, tfjs-wasm, jax-js or pytorch-<threads>t`)
}

const torchAvailable = (): boolean => {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const skipped = new Set(list(values.skip!))
const timeoutMs = Number(values.timeout) * 60_000
const hasTorch = list(values.peers!).some((p) => p.startsWith('pytorch')) && torchAvailable()

const run = (config: string, job: Job): Outcome => {
  if (skipped.has(`${config}:${job.label}`)) return { kind: 'missing', why: 'skipped' }
  if (job.command === python && !hasTorch) return { kind: 'missing', why: `unavailable (no torch in ${python})` }
  try {
    const out = execFileSync(job.command, job.args, {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24, timeout: timeoutMs,
    })
    const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'))
    return line === undefined ? { kind: 'missing', why: 'failed (no result line)' } : { kind: 'result', result: JSON.parse(line) }
  } catch (error) {
    const { code, status } = error as { code?: string; status?: number | null }
    return { kind: 'missing', why: code === 'ETIMEDOUT' ? `timed out after ${values.timeout} min` : `failed (exit ${status ?? code})` }
  }
}

/** One number per framework label: median ms, or peak RSS MB. */
type ByLabel = ReadonlyMap<string, number>

/** `scangrad <backend> float32`, possibly followed by C2u's ` nn.lstm` or ` user cell`. */
const isScangradF32 = (label: string): boolean => /^scangrad \S+ float32( |$)/.test(label)

const runs = Number(values.repeat)
if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: --repeat must be a whole number ≥ 1, got ${values.repeat}`)

/** `a–b`, or `a` when both are the same. */
const span = (values: readonly number[], digits: number): string => {
  const [low, high] = [Math.min(...values), Math.max(...values)].map((v) => v.toFixed(digits))
  return low === high ? low : `${low}–${high}`
}

/**
 * A job's runs as one outcome: the median of their medians and the largest peak RSS; the range of
 * the medians and of the warm-up step counts.
 */
const combine = (outcomes: readonly Outcome[]): { outcome: Outcome; range: string; warmup: string } => {
  const results = outcomes.flatMap((o) => (o.kind === 'result' ? [o.result] : []))
  if (results.length === 0) return { outcome: outcomes[0], range: '', warmup: '' }
  const medians = results.map((r) => r.medianMs)
  return {
    outcome: { kind: 'result', result: { ...results[0], medianMs: median(medians), peakRssMb: Math.max(...results.map((r) => r.peakRssMb)) } },
    range: span(medians, 1),
    warmup: span(results.map((r) => r.warmupSteps), 0),
  }
}

const row = (config: string, job: Job, outcome: Outcome, range: string, warmup: string, reference: number | null): string => {
  const spread = runs > 1 ? ` ${range} |` : ''
  if (outcome.kind === 'missing') return `| ${config} | ${job.label} | ${outcome.why} |${runs > 1 ? ' |' : ''} | | |`
  const { medianMs, peakRssMb } = outcome.result
  const ratio = reference === null ? '' : (medianMs / reference).toFixed(2)
  return `| ${config} | ${job.label} | ${medianMs.toFixed(1)} |${spread} ${ratio} | ${peakRssMb.toFixed(0)} | ${warmup} |`
}

/** The smallest number among the labels present (the faster setting, or the leaner one), or null. */
const best = (m: ByLabel, labels: readonly string[]): number | null => {
  const present = labels.flatMap((l) => (m.has(l) ? [m.get(l)!] : []))
  return present.length === 0 ? null : Math.min(...present)
}

/** Each round's median ms of one job (null where the job failed in that round). */
type RoundTimes = ReadonlyMap<string, readonly (number | null)[]>

/** The median over rounds of a / b, from the rounds where both jobs gave a result; null if none did. */
const roundRatio = (a: readonly (number | null)[], b: readonly (number | null)[]): number | null => {
  const ratios = a.flatMap((x, r) => (x !== null && b[r] !== null ? [x / b[r]!] : []))
  return ratios.length === 0 ? null : median(ratios)
}

/** `value` with ✓ or ✗ against a target (`atLeast`: value ≥ target, else value ≤ target); – when unknown. */
const against = (value: number | null, target: number, atLeast: boolean): string =>
  value === null ? '–' : `${value.toFixed(2)} ${(atLeast ? value >= target : value <= target) ? '✓' : '✗'}`

/**
 * The issue's targets for one configuration, the fastest scangrad float32 variant as the reference
 * (float64 is compared with float32 on the fastest backend measured in both): speed-ups over the faster tfjs backend (≥ 10), jax-js jit (≥ 2) and the better
 * PyTorch thread setting (≥ 1 on C1 and C3, ≥ 0.5 on C2 and C4), float64 / float32 time (≤ 2.5, per
 * round) and peak RSS / PyTorch's (≤ 1).
 */
const summaryRow = (config: string, labels: readonly string[], times: ByLabel, rss: ByLabel, rounds: RoundTimes): string => {
  // The fastest scangrad float32 variant measured.
  const f32 = labels.filter((l) => isScangradF32(l) && times.has(l)).sort((a, b) => times.get(a)! - times.get(b)!)[0]
  const ref = f32 === undefined ? null : times.get(f32) ?? null
  const speedup = (other: number | null): number | null => (ref === null || other === null ? null : other / ref)
  const torch = labels.filter((l) => l.startsWith('pytorch'))
  // float64 against float32 on the same backend: the fastest variant measured in both dtypes.
  const paired = labels.filter((l) => isScangradF32(l) && times.has(l) && times.has(l.replace('float32', 'float64')))
    .sort((a, b) => times.get(a)! - times.get(b)!)[0]
  const f64Ratio = paired === undefined ? null : roundRatio(rounds.get(paired.replace('float32', 'float64'))!, rounds.get(paired)!)
  const torchRss = best(rss, torch)
  const ownRss = f32 === undefined ? null : rss.get(f32) ?? null
  return `| ${config} | ${[
    against(speedup(best(times, ['tfjs-cpu', 'tfjs-wasm'])), 10, true),
    against(speedup(best(times, ['jax-js jit'])), 2, true),
    against(speedup(best(times, torch)), config === 'C1' || config === 'C3' ? 1 : 0.5, true),
    against(f64Ratio, 2.5, false),
    against(ownRss === null || torchRss === null ? null : ownRss / torchRss, 1, false),
  ].join(' | ')} |`
}

/**
 * C2u's rows of the last table: per variant, the median over rounds of user cell ms / `nn.lstm` ms
 * (the two run one after the other in every round), against issue 18's target ≤ 1.25.
 */
const userCellRows = (config: string, labels: readonly string[], rounds: RoundTimes): string[] =>
  labels.filter((l) => l.endsWith(USER_CELL)).map((user) => {
    const variant = user.slice('scangrad '.length, -USER_CELL.length)
    const builtIn = rounds.get(user.slice(0, -USER_CELL.length) + BUILT_IN)
    return `| ${config} | ${variant} | ${against(builtIn === undefined ? null : roundRatio(rounds.get(user)!, builtIn), 1.25, false)} |`
  })

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')

const main = (): void => {
  compileRunners()
  const results: BenchResult[] = []
  const summary: string[] = []
  const userCell: string[] = []
  const blas = new Set<string>()
  const plan = list(values.configs!).map((config) => ({
    config,
    jobs: config === 'C2u'
      ? list(values.scangrad!).flatMap(userCellJobs)
      : [...list(values.scangrad!).map((v) => scangradJob(config, v)), ...list(values.peers!).map((p) => peerJob(config, p))],
  }))
  const what = runs > 1 ? `the median of ${runs} processes' medians over ${values.steps} steps` : `median ms over ${values.steps} steps`
  const warmup = `${WARMUP.minSteps} to ${WARMUP.maxSteps} warm-up steps (as many as fit in ${WARMUP.seconds} s)`
  console.log(`# training step, ${what} after ${warmup} — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, node ${process.version}, ${new Date().toISOString()}, load average ${load()}`)
  console.log(`${gauge()}\n`)
  console.log(`| config | framework | median ms |${runs > 1 ? ' range |' : ''} × scangrad f32 | peak RSS MB | warm-up steps |`)
  console.log(`|---|---|---:|${runs > 1 ? '---:|' : ''}---:|---:|---:|`)
  for (const { config, jobs } of plan) {
    const times = new Map<string, number>()
    const rss = new Map<string, number>()
    let reference: number | null = null
    const outcomes: Outcome[][] = jobs.map(() => [])
    const rounds = new Map<string, (number | null)[]>()
    for (let round = 0; round < runs; round++) jobs.forEach((job, j) => outcomes[j].push(run(config, job)))
    for (const [j, job] of jobs.entries()) {
      const { outcome, range, warmup: warmupSteps } = combine(outcomes[j])
      for (const o of outcomes[j]) if (o.kind === 'result') results.push(o.result)
      rounds.set(job.label, outcomes[j].map((o) => (o.kind === 'result' ? o.result.medianMs : null)))
      if (outcome.kind === 'result') {
        times.set(job.label, outcome.result.medianMs)
        rss.set(job.label, outcome.result.peakRssMb)
        if (outcome.result.blas !== undefined) blas.add(outcome.result.blas)
        if (reference === null && isScangradF32(job.label)) reference = outcome.result.medianMs
      }
      console.log(row(config, job, outcome, range, warmupSteps, reference))
    }
    if (config === 'C2u') userCell.push(...userCellRows(config, jobs.map((j) => j.label), rounds))
    else summary.push(summaryRow(config, jobs.map((j) => j.label), times, rss, rounds))
  }
  console.log(`\nload average at the end ${load()}${blas.size > 0 ? `; PyTorch's BLAS: ${[...blas].join(', ')}` : ''}`)
  console.log(`at the end, ${gauge()}`)
  console.log('\n## targets: × faster = peer ms / fastest scangrad f32 ms (✓ when the target is met)')
  console.log('| config | × tfjs best (≥ 10) | × jax-js jit (≥ 2) | × PyTorch best (≥ 1 C1/C3, ≥ 0.5 C2/C4) | f64 / f32 (≤ 2.5) | peak RSS / PyTorch (≤ 1) |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const line of summary) console.log(line)
  if (userCell.length > 0) {
    console.log('\n## a user\'s cell: user-written LSTM cell ms / nn.lstm ms, same variant, median over rounds (✓ when ≤ 1.25)')
    console.log('| config | variant | user cell / nn.lstm (≤ 1.25) |')
    console.log('|---|---|---:|')
    for (const line of userCell) console.log(line)
  }
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(results, null, 2))
}

main()
