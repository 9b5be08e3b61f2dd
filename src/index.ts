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

export * as arbitraries from './testing/arbitraries.js'
export { ShapeError, TreeError, ValueError } from './errors.js'

export * as data from './data/index.js'
export * as optim from './optim/index.js'
export * as losses from './losses/index.js'
export * as train from './train/index.js'
export { fit, NonFiniteLossError } from './train/index.js'
export * as nn from './nn/index.js'
export * as io from './io/index.js'
export * as report from './report/index.js'
export * as diagnostics from './diagnostics/index.js'
export { loadWasmKernels, loadWasmKernelsAsync, relaxedSimdSupported, wasmKernelsSupported } from './tensor/wasm/wasmKernels.js'
export type { WasmKernelOptions } from './tensor/wasm/wasmKernels.js'
export { loadThreadedWasmKernels } from './tensor/wasm/threads.js'
export type { ThreadedKernels, ThreadedWasmKernelOptions, ThreadWorker, WorkerFactory } from './tensor/wasm/threads.js'
