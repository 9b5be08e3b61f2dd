/**
 * @file losses: scalar training objectives and the accuracy metric. Conventions (layout, 'mean' vs
 * 'sum', masks) are described in reduction.ts and hold for every function here. The public door of
 * losses/.
 */
export { mse } from './regression.js'
export { binaryCrossEntropy, categoricalCrossEntropy, softmaxCrossEntropy, sigmoidBinaryCrossEntropy } from './crossEntropy.js'
export type { ProbabilityLossOptions } from './crossEntropy.js'
export { accuracy } from './accuracy.js'
export type { AccuracyOptions } from './accuracy.js'
export type { LossOptions, Reduction, Labels } from './reduction.js'
