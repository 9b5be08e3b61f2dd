/**
 * @file The Node-only entry point (`scangrad/node`): dataset loaders that read files (CSV, the
 * MNIST and first-names packages), the worker-thread factory of the threaded WebAssembly
 * backend, and the switch that gives Node 20 relaxed SIMD. Kept apart from `scangrad` so that the main entry runs in browsers.
 */
/** Node-only dataset loaders: CSV columns, the MNIST digits, English first names. @category namespaces */
export * as datasets from './data/node/index.js'
export { nodeWorkers } from './nodeThreads.js'
export { enableRelaxedSimd } from './nodeRelaxedSimd.js'
