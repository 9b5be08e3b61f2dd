/**
 * @file Node-only data loaders: CSV columns, the `mnist` package's digits, the English first
 * names packages. They read files with `node:fs`, so this module must stay out of the
 * browser-safe public surface (`src/index.ts`); expose it from a Node-side entry (the CLI's),
 * or import it lazily (`await import('./data/node/index.js')`).
 */
export { readCsv, parseCsv, NumericCell } from './csv.js'
export type { CsvOptions, CsvTable, CsvError, CsvCellProblem, MissingPolicy } from './csv.js'
export { loadMnist, MNIST_SIZE } from './mnist.js'
export type { Mnist, MnistOptions, MnistPart } from './mnist.js'
export { loadNames } from './names.js'
export type { NameList } from './names.js'
