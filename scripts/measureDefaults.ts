/**
 * @file `npm run measure-defaults`: trains the default MNIST run (`scangrad train`, seed 0) and the
 * weather task's years preset (when ../shared/data/clean_weather.csv is there), then rewrites
 * src/cli/tasks/measured.ts with their numbers and the machine they ran on, and README.md's first
 * command and "Measured defaults" section from it (src/cli/tasks/claims.ts). The one-minute load
 * averages before and after are recorded: measure on a quiet machine when you can.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../src/cli/program.js'
import { type Measured, withClaims } from '../src/cli/tasks/claims.js'

const repository = fileURLToPath(new URL('..', import.meta.url))
const weatherCsv = join(repository, '..', 'shared', 'data', 'clean_weather.csv')
const scratch = mkdtempSync(join(tmpdir(), 'scangrad-measure-'))

interface Metrics {
  readonly seconds: number
  readonly final: Record<string, number>
  readonly history: readonly { readonly seconds: number }[]
}

/** Runs `scangrad train …` in this process; its metrics and the lines it printed. */
const train = async (name: string, args: readonly string[]): Promise<{ metrics: Metrics; lines: string[] }> => {
  const out = join(scratch, name)
  const printed: string[] = []
  process.stderr.write(`measure-defaults: scangrad train ${args.join(' ')}\n`)
  const code = await runCli(['train', ...args, '--quiet', '--out', out], { stdout: (s) => void printed.push(s), stderr: (s) => void process.stderr.write(s) })
  if (code !== 0) throw new Error(`scangrad train ${args.join(' ')} exited with ${code}`)
  return { metrics: JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics, lines: printed.join('').split('\n') }
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

const main = async (): Promise<void> => {
  const loadStart = loadavg()[0]
  const mnist = await train('mnist', [])
  const weather = existsSync(weatherCsv) ? await train('weather', ['--task', 'weather', '--preset', 'years', '--file', weatherCsv]) : null
  if (weather === null) process.stderr.write(`measure-defaults: ${weatherCsv} is missing; the weather numbers are left out.\n`)
  const measured: Measured = {
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      node: process.version,
      load: [round(loadStart, 2), round(loadavg()[0], 2)],
      date: new Date().toISOString().slice(0, 10),
    },
    mnist: {
      command: 'scangrad train',
      epochs: mnist.metrics.history.length,
      testAccuracy: mnist.metrics.final.testAccuracy,
      testLoss: round(mnist.metrics.final.testLoss, 6),
      headline: mnist.lines[0],
      trainingSeconds: round(mnist.metrics.seconds, 1),
      epochSeconds: mnist.metrics.history.map((h) => round(h.seconds, 1)),
    },
    weather: weather === null ? null : {
      command: 'scangrad train --task weather --preset years --file clean_weather.csv',
      epochs: weather.metrics.history.length,
      validationRows: [weather.metrics.final.validationFirstRow, weather.metrics.final.validationLastRow + 1],
      modelMae: round(weather.metrics.final.validationMae, 4),
      persistenceMae: round(weather.metrics.final.persistenceMae, 4),
      linearMae: round(weather.metrics.final.linearMae, 4),
      trainingSeconds: round(weather.metrics.seconds, 1),
    },
  }
  const module = join(repository, 'src', 'cli', 'tasks', 'measured.ts')
  const header = readFileSync(module, 'utf8').split('export const MEASURED')[0]
  writeFileSync(module, `${header}export const MEASURED: Measured = ${JSON.stringify(measured, null, 2)}\n`)
  const readme = join(repository, 'README.md')
  writeFileSync(readme, withClaims(readFileSync(readme, 'utf8'), measured))
  rmSync(scratch, { recursive: true, force: true })
  process.stdout.write(`${JSON.stringify(measured, null, 2)}\n`)
}

await main()
