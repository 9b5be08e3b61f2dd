/**
 * `npm run bench`: the training-step benchmark. Each (framework, configuration) pair runs in its own
 * child process, one after another, so that peak RSS is per process and no run warms another's
 * caches. Prints a table of median ms per step and the ratio of each peer to scangrad float32.
 *   npm run bench -- [--configs C1,C2,C3,C4] [--steps 10] [--peers tfjs-cpu,tfjs-wasm] [--json out.json]
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { type BenchResult, configs } from './configs.js'

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: configs.map((c) => c.name).join(',') },
    steps: { type: 'string', default: '10' },
    peers: { type: 'string', default: 'tfjs-cpu,tfjs-wasm' },
    scangrad: { type: 'string', default: 'wasm-float32,wasm-float64,js-float32' },
    json: { type: 'string' },
  },
})

interface Job { readonly label: string; readonly script: string; readonly args: readonly string[] }

const jobsFor = (config: string): Job[] => [
  ...values.scangrad!.split(',').filter(Boolean).map((variant) => {
    const [backend, dtype] = variant.split('-')
    return { label: `scangrad ${backend} ${dtype}`, script: 'bench/scangradRunner.ts', args: [config, dtype, values.steps!, backend] }
  }),
  ...values.peers!.split(',').filter(Boolean).map((peer) => ({
    label: peer, script: 'bench/tfjsRunner.ts', args: [config, peer.replace('tfjs-', ''), values.steps!],
  })),
]

const run = (job: Job): BenchResult | null => {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', job.script, ...job.args], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24,
    })
    const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'))
    return line === undefined ? null : (JSON.parse(line) as BenchResult)
  } catch {
    return null
  }
}

const results: BenchResult[] = []
console.log(`# training step, median ms over ${values.steps} steps after 2 warm-up steps — ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}`)
console.log('| config | framework | median ms | × scangrad f32 | peak RSS MB |')
console.log('|---|---|---:|---:|---:|')
for (const config of values.configs!.split(',')) {
  let reference: number | null = null
  for (const job of jobsFor(config)) {
    const result = run(job)
    if (result === null) {
      console.log(`| ${config} | ${job.label} | failed | | |`)
      continue
    }
    results.push(result)
    if (reference === null && job.label.includes('float32')) reference = result.medianMs
    const ratio = reference === null ? '' : (result.medianMs / reference).toFixed(2)
    console.log(`| ${config} | ${job.label} | ${result.medianMs.toFixed(1)} | ${ratio} | ${result.peakRssMb.toFixed(0)} |`)
  }
}
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(results, null, 2))
