/**
 * @file The browser-safe data layer: generated series, scaling, windows, minibatches, splits and
 * character vocabularies, all pure functions of their arguments (randomness only through keys).
 * The Node-only file loaders (CSV, MNIST, names) live in `./node/` and are deliberately NOT
 * re-exported here, so bundling this module for a browser never pulls in `node:fs`.
 */
export { oscillator, nextStepTask } from './oscillator.js'
export type { OscillatorOptions, OscillatorSeries, SequenceTask } from './oscillator.js'
export { minMaxScaler } from './scaling.js'
export type { MinMaxScaler, Scalable } from './scaling.js'
export { sequence, slidingWindows, seriesTask, seedWeatherSplit } from './series.js'
export type { IndexRange, SeriesSplit, SeriesTask, SeriesWindow, SeriesExtrapolation } from './series.js'
export { batches, takeRows, trainTestSplit } from './batching.js'
export type { BatchSpec, SplitSpec, Split } from './batching.js'
export { vocabulary, encode, decode, encodeBatch, START, END, START_INDEX, END_INDEX } from './text.js'
export type { Vocabulary, EncodedBatch } from './text.js'
