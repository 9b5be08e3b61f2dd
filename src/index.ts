/**
 * @file scangrad's public surface. Everything a user imports comes through here; the folders
 * below are internal and layered (tensor → autodiff → transforms → nn → optim → train → io).
 */
export { Tensor, isTensor } from './tensor/Tensor.js'
export type { DType, Data, NestedArray } from './tensor/Tensor.js'
export type { Shape } from './tensor/shape.js'
export { tensor, zeros, ones, full, scalar, eye, arange } from './tensor/creation.js'
export type { TensorOptions } from './tensor/creation.js'
export { useKernels, ready } from './tensor/backend.js'
export { completeKernels } from './tensor/complete.js'
export type { CompleteKernels } from './tensor/complete.js'
export type { Kernels, BinaryOp, IndexMap, GruBackward, GruForward, LstmBackward, LstmForward, RecurrenceExtent, LinearRecurrenceBackward, ProjectedRecurrentBackward, ProjectedWanted, RecurrentActivation, RecurrentBackward, SequenceCotangent } from './tensor/kernels.js'
export { jsKernels } from './tensor/jsKernels.js'

export {
  add, sub, mul, div, neg, pow, square, sqrt, exp, log, abs, tanh, sigmoid, relu, leakyRelu, softplus,
  maximum, minimum, where, clip, cast, sign, greater, greaterEqual, less, lessEqual, equal,
} from './autodiff/ops/elementwise.js'
export type { Operand } from './autodiff/ops/elementwise.js'
export { sum, mean, max, logSumExp, softmax, logSoftmax, argmax } from './autodiff/ops/reduce.js'
export type { ReduceOptions, Axis } from './autodiff/ops/reduce.js'
export { matmul } from './autodiff/ops/linalg.js'
export {
  reshape, expandDims, squeeze, broadcastTo, transpose, slice, concat, stack, unstack, take, oneHot, stopGradient,
} from './autodiff/ops/structural.js'
export { definePrimitive, defineMultiPrimitive, defineKernelPrimitive, findNonFinite } from './autodiff/primitive.js'
export type { Primitive, PrimitiveSpec, VjpContext, JvpContext, MultiJvp, MultiPrimitiveSpec, KernelPrimitiveSpec, KernelForward, KernelVjpContext, NonFiniteCulprit } from './autodiff/primitive.js'

export { vjp, grad, valueAndGrad, hvp, treeVdot } from './transforms/grad.js'
export type { GradOptions, GradsOf } from './transforms/grad.js'
export { jvp } from './transforms/jvp.js'
export { jacfwd, jacrev, hessian } from './transforms/jacobian.js'
export type { JacobianOptions } from './transforms/jacobian.js'
export { vmap } from './transforms/vmap.js'
export type { VmapOptions, AxisSpec } from './transforms/vmap.js'
export { customVjp, checkpoint } from './transforms/custom.js'
export type { CustomVjpOptions } from './transforms/custom.js'
export { scan } from './transforms/scan.js'
export type { ScanStep, ScanOptions } from './transforms/scan.js'
export { associativeScan } from './transforms/associativeScan.js'
export type { AssociativeScanOptions } from './transforms/associativeScan.js'
export { linearRecurrence, logLinearRecurrence } from './transforms/linearRecurrence.js'
export type { LinearRecurrenceOptions } from './transforms/linearRecurrence.js'
export { withSequenceKernel } from './transforms/sequenceKernel.js'
export type { SequenceKernel, SequenceRun, SequenceCotangents, ScanLayout } from './transforms/sequenceKernel.js'
export { checkGrads } from './transforms/checkGrads.js'
export type { CheckGradsOptions, GradCheckReport, GradCheckFailure, GradCheckEntry } from './transforms/checkGrads.js'

export { treeMap, treeLeaves, treeFlatten, treeUnflatten, treePaths, treeLeavesAs } from './tree/tree.js'
export type { Tree, TreeDef, MapLeaves } from './tree/tree.js'

export { randomKey, splitKey, keyFromWords, normal, uniform, permutation, categorical } from './random/random.js'
export type { Key, RandomOptions } from './random/random.js'

/** fast-check arbitraries (shapes, tensors in a domain, broadcastable shapes, keys) to property-test your own cells; fast-check is an optional peer. @category namespaces */
export * as arbitraries from './testing/arbitraries.js'
export { ShapeError, TreeError, ValueError } from './errors.js'

/** Data as pure functions: the seed's oscillator, min–max scaling, windows, minibatches, splits, character vocabularies. @category namespaces */
export * as data from './data/index.js'
/** Optimisers as gradient transformations `{ init, update }` composed with `chain`, and learning-rate schedules. @category namespaces */
export * as optim from './optim/index.js'
/** Training objectives (`mse`, the cross-entropies) with mean/sum reductions and masks, and `accuracy`. @category namespaces */
export * as losses from './losses/index.js'
/** Training loops: `fit`, train steps (plain and truncated BPTT), `evaluate`, `predict`, `generate`/`sample`. @category namespaces */
export * as train from './train/index.js'
export { fit, NonFiniteLossError } from './train/index.js'
/** Layers as `{ init, apply }` records of pure functions: Elman, RNN, LSTM, GRU (PyTorch's equations and names), minGRU/minLSTM, their cells, linear and dense heads. @category namespaces */
export * as nn from './nn/index.js'
/** Safetensors, atomic file writes, checkpoints, io-ts validated configs, ONNX export; data errors come back as `Either`. @category namespaces */
export * as io from './io/index.js'
/** Vega-lite plots rendered to SVG, and the self-contained `report.html` of a run. @category namespaces */
export * as report from './report/index.js'
/** The dynamics of scan-based models: gradient flow through time, step Jacobians and their singular values, Lyapunov exponents. @category namespaces */
export * as diagnostics from './diagnostics/index.js'
export { loadWasmKernels, loadWasmKernelsAsync, relaxedSimdSupported, wasmKernelsSupported } from './tensor/wasm/wasmKernels.js'
export type { WasmKernelOptions } from './tensor/wasm/wasmKernels.js'
export { loadThreadedWasmKernels } from './tensor/wasm/threads.js'
export type { ThreadedKernels, ThreadedWasmKernelOptions, ThreadWorker, WorkerFactory } from './tensor/wasm/threads.js'
