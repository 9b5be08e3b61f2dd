/**
 * @file The numbers README.md and the help texts quote about the default runs, all formatted here
 * from one measuring session (measured.ts, written by `npm run measure-defaults`), so that every
 * place says the same and says where it was measured.
 */
import { pct } from './common.js'
import { MEASURED } from './measured.js'

/** What one measuring session found. */
export interface Measured {
  readonly machine: {
    readonly cpu: string
    readonly cores: number
    readonly node: string
    /** One-minute load averages when the runs started and ended: other work on the machine slows them. */
    readonly load: readonly [start: number, end: number]
    readonly date: string
  }
  readonly mnist: {
    readonly command: string
    readonly epochs: number
    readonly testAccuracy: number
    readonly testLoss: number
    readonly headline: string
    readonly trainingSeconds: number
    readonly epochSeconds: readonly number[]
  }
  readonly weather: {
    readonly command: string
    readonly epochs: number
    readonly validationRows: readonly [start: number, end: number]
    readonly modelMae: number
    readonly persistenceMae: number
    readonly linearMae: number
    readonly trainingSeconds: number
  } | null
}

/** Where README.md's generated section begins and ends. */
export const README_MARKERS = { start: '<!-- measured-defaults:start -->', end: '<!-- measured-defaults:end -->' } as const

const seconds = (s: number): string => (s < 90 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`)
const twoDecimals = (x: number): string => x.toFixed(2)

/** `2025-12-08, 2 cores of <cpu>, Node v20.20.2, load average 1.2 → 3.4 (other work shared the machine)`. */
export const machineNote = (m: Measured = MEASURED): string =>
  `${m.machine.date}, ${m.machine.cores} cores of ${m.machine.cpu}, Node ${m.machine.node}, one-minute load average ${m.machine.load[0].toFixed(1)} → ${m.machine.load[1].toFixed(1)}` +
  `${m.machine.load[0] > m.machine.cores || m.machine.load[1] > m.machine.cores ? ' (other work shared the machine)' : ''}`

/** `94.9% test accuracy after 5 epochs, 39 s of training`. */
export const mnistClaim = (m: Measured = MEASURED): string =>
  `${pct(m.mnist.testAccuracy)} test accuracy after ${m.mnist.epochs} epochs, ${seconds(m.mnist.trainingSeconds)} of training`

/** `validation MAE 3.32 °F (persistence 3.59, linear 3.36)`, or null when the weather run was not measured. */
export const weatherClaim = (m: Measured = MEASURED): string | null =>
  m.weather === null
    ? null
    : `validation mean absolute error ${twoDecimals(m.weather.modelMae)} °F, persistence ${twoDecimals(m.weather.persistenceMae)} °F, linear ${twoDecimals(m.weather.linearMae)} °F`

/** README's first command, with its claim. */
export const readmeStartLine = (m: Measured = MEASURED): string =>
  `npm ci && npm start    # install, build, train an LSTM on MNIST row by row (${mnistClaim(m)}; see "Measured defaults")`

/** README's generated section (between the markers). */
export const readmeSection = (m: Measured = MEASURED): string => {
  const weather = weatherClaim(m)
  return [
    README_MARKERS.start,
    `Measured by \`npm run measure-defaults\` (one run each, seed 0) on ${machineNote(m)}:`,
    '',
    `- \`${m.mnist.command}\` (\`npm start\`): ${mnistClaim(m)} (epochs of ${m.mnist.epochSeconds.map((s) => s.toFixed(1)).join(', ')} s).`,
    `  It prints \`${m.mnist.headline}\`.`,
    ...(m.weather === null || weather === null ? [] : [
      `- \`${m.weather.command}\`: ${weather} on rows ${m.weather.validationRows[0]}–${m.weather.validationRows[1] - 1}, ` +
        `after ${m.weather.epochs} epochs, ${seconds(m.weather.trainingSeconds)} of training.`,
    ]),
    README_MARKERS.end,
  ].join('\n')
}

/** `readme` with its start line and generated section rewritten from `m`; throws if README lacks them. */
export const withClaims = (readme: string, m: Measured = MEASURED): string => {
  const startLine = /^npm ci && npm start .*$/m
  const section = new RegExp(`${README_MARKERS.start}[\\s\\S]*?${README_MARKERS.end}`)
  if (!startLine.test(readme) || !section.test(readme)) {
    throw new Error(`README.md must hold a line starting "npm ci && npm start" and a section between ${README_MARKERS.start} and ${README_MARKERS.end}.`)
  }
  return readme.replace(startLine, readmeStartLine(m)).replace(section, readmeSection(m))
}
