/**
 * @file What an ONNX export needs to know about a scangrad model, read from the model and its
 * parameters: the recurrent body (cell, sizes, layers, directions, nonlinearity), the output layer
 * (bias, activation) and the readout. Layers are closures that do not record every option (an
 * `nn.rnn`'s nonlinearity, a dense layer's activation), so each candidate description is rebuilt
 * with the public constructors and kept only if its `apply` agrees with the model's own on a probe
 * input: whatever is exported has been shown to be the model that was passed.
 */
import { ValueError } from '../errors.js'
import { type ActivationName } from '../nn/activations.js'
import { dense } from '../nn/dense.js'
import { elman, gru, lstm, rnn } from '../nn/layers.js'
import type { Params } from '../nn/init.js'
import type { Readout } from '../nn/networks.js'
import { type RecurrentLayer, stacked } from '../nn/recurrent.js'
import { normal, randomKey } from '../random/random.js'
import { type DType, Tensor } from '../tensor/Tensor.js'

export type RecurrentKind = 'lstm' | 'gru' | 'rnn'

export interface RecurrentPlan {
  readonly kind: RecurrentKind
  /** ONNX's activation name for an `nn.rnn` ('Tanh' or 'Relu'); unused otherwise. */
  readonly nonlinearity: 'Tanh' | 'Relu'
  readonly inputSize: number
  readonly hiddenSize: number
  readonly numLayers: number
  readonly directions: 1 | 2
  /** `['h']`, or `['h', 'c']` for an LSTM. */
  readonly stateNames: readonly string[]
  /** The body's parameters, PyTorch's names (`weight_ih_l0_reverse`, ...). */
  readonly params: Params
}

/** ONNX's RNN activations an Elman layer may have. */
export type ElmanActivation = 'Tanh' | 'Relu' | 'Sigmoid'

/** One Elman layer of a stack: sizes, activation and its four parameters. */
export interface ElmanLayerPlan {
  readonly inputSize: number
  readonly hiddenSize: number
  readonly activation: ElmanActivation
  readonly wLayer: Tensor
  readonly bLayer: Tensor
  readonly wTime: Tensor
  readonly bTime: Tensor
}

/** `nn.elman`, or a stack of them (`nn.seedNetwork`'s body), hidden sizes possibly mixed. */
export interface ElmanPlan {
  readonly kind: 'elman'
  readonly inputSize: number
  readonly layers: readonly ElmanLayerPlan[]
  readonly params: Params
}

export interface OutputPlan {
  readonly inputSize: number
  readonly outputSize: number
  readonly activation: ActivationName
  readonly w: Tensor
  readonly b: Tensor | null
}

export interface ExportPlan {
  readonly dtype: DType
  readonly recurrent: RecurrentPlan | ElmanPlan
  /** null for a bare recurrent layer: its outputs are exported as they are. */
  readonly output: OutputPlan | null
  readonly readout: Readout
}

const WHO = 'io.toOnnx'

const refuse = (message: string): never => {
  throw new ValueError(`${WHO}: ${message}`)
}

const isRecurrentLayer = (x: unknown): x is RecurrentLayer =>
  typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'scangrad.recurrentLayer'

const tensorLeaves = (who: string, params: unknown): Params => {
  if (typeof params !== 'object' || params === null) refuse(`${who} parameters must be a record of tensors, got ${params === null ? 'null' : typeof params}.`)
  for (const [k, v] of Object.entries(params as object)) {
    if (!(v instanceof Tensor)) refuse(`${who} parameter ${k} must be a Tensor, got ${typeof v}.`)
  }
  return params as Params
}

const dtypeOf = (params: Params): DType => {
  const dtypes = new Set(Object.values(params).map((t) => t.dtype))
  if (dtypes.size !== 1) refuse(`the parameters mix dtypes (${[...dtypes].join(', ')}); cast them to one dtype (float32 or float64) first.`)
  return [...dtypes][0]
}

/** Largest |a − b| relative to the scale of b; Infinity when the shapes differ. */
const relativeGap = (a: Tensor, b: Tensor): number => {
  if (a.shape.join() !== b.shape.join()) return Infinity
  let gap = 0
  let scale = 1e-30
  for (let k = 0; k < a.data.length; k++) {
    gap = Math.max(gap, Math.abs(a.data[k] - b.data[k]))
    scale = Math.max(scale, Math.abs(b.data[k]))
  }
  return gap / scale
}

// Rebuilt layers run the very same kernels, so agreement is exact up to summation order at most.
const agrees = (a: Tensor, b: Tensor, dtype: DType): boolean => relativeGap(a, b) <= (dtype === 'float32' ? 1e-5 : 1e-10)

const tryApply = <T>(f: () => T): T | null => {
  try {
    return f()
  } catch {
    return null
  }
}

const KINDS: Readonly<Record<string, RecurrentKind>> = { 'nn.lstm': 'lstm', 'nn.gru': 'gru', 'nn.rnn': 'rnn' }

const ELMAN_ACTIVATIONS = { Tanh: 'tanh', Relu: 'relu', Sigmoid: 'sigmoid' } as const

// A bare nn.elman, the seed network's body, or a stack of nn.elman layers built by hand.
const ELMAN_STACK = /^(nn\.elman|nn\.seedNetwork|nn\.stacked\(nn\.elman(, nn\.elman)*\))$/

/**
 * An Elman layer or stack: sizes from the layer, each layer's activation found by probing. Layer k's
 * final state depends on layers 0..k only, so the activations are found one layer at a time
 * (3·L candidates, not 3^L); the whole candidate is then checked against the model once more.
 */
const planElman = (body: RecurrentLayer, params: unknown, dtype: DType | null): ElmanPlan => {
  const p = tensorLeaves(`the recurrent layer's (${body.name})`, params)
  const bare = body.name === 'nn.elman'
  const sizes = body.stateSizes
  const inputSizes = sizes.map((_, k) => (k === 0 ? body.inputSize : sizes[k - 1]))
  const build = (names: readonly ElmanActivation[]): RecurrentLayer => {
    const layers = names.map((n, k) => elman({ inputSize: inputSizes[k], hiddenSize: sizes[k], activation: ELMAN_ACTIVATIONS[n] }) as unknown as RecurrentLayer)
    return bare ? layers[0] : stacked(layers, { name: body.name })
  }
  const probe = normal(randomKey(0x0e1), [2, 3, body.inputSize], { dtype: dtype ?? dtypeOf(p) })
  const own = tryApply(() => body.apply(p, probe))
  if (own === null) refuse(`${body.name}'s apply failed on its own parameters; check that they are this layer's (wLayer${bare ? '' : '_l0'} [${body.inputSize}, ${sizes[0]}], ...).`)
  const slice = (state: unknown, k: number): Tensor => {
    const h = (state as { h: Tensor | readonly Tensor[] }).h
    return Array.isArray(h) ? h[k] : indexSlice(h as Tensor, k)
  }
  const found: ElmanActivation[] = []
  for (let k = 0; k < sizes.length; k++) {
    const candidates = (Object.keys(ELMAN_ACTIVATIONS) as ElmanActivation[]).filter((name) => {
      const names = [...found, name, ...sizes.slice(k + 1).map(() => 'Tanh' as const)]
      const theirs = tryApply(() => build(names).apply(p, probe))
      return theirs !== null && agrees(slice(own!.state, k), slice(theirs.state, k), probe.dtype)
    })
    if (candidates.length === 0) {
      refuse(
        `${body.name}${bare ? '' : ` layer ${k}`} has an activation ONNX's RNN node cannot express: only tanh, relu and sigmoid export ` +
          `(or the layer is not nn.elman({ inputSize: ${inputSizes[k]}, hiddenSize: ${sizes[k]} }) with these parameters).`,
      )
    }
    found.push(candidates[0])
  }
  const theirs = tryApply(() => build(found).apply(p, probe))
  if (theirs === null || !agrees(own!.outputs, theirs.outputs, probe.dtype)) {
    refuse(`${body.name} does not compute what a stack of nn.elman layers (${found.map((a) => ELMAN_ACTIVATIONS[a]).join(', ')}) computes with its parameters.`)
  }
  const get = (name: string, k: number): Tensor => {
    const key = bare ? name : `${name}_l${k}`
    const value = p[key]
    if (value === undefined) refuse(`the Elman layer's parameter ${key} is missing.`)
    return value
  }
  const layers = sizes.map((hiddenSize, k) => ({
    inputSize: inputSizes[k], hiddenSize, activation: found[k],
    wLayer: get('wLayer', k), bLayer: get('bLayer', k), wTime: get('wTime', k), bTime: get('bTime', k),
  }))
  return { kind: 'elman', inputSize: body.inputSize, layers, params: p }
}

/** Row k of a `[slices, batch, hidden]` state. */
const indexSlice = (h: Tensor, k: number): Tensor => {
  const size = h.shape[1] * h.shape[2]
  return new Tensor(h.data.slice(k * size, (k + 1) * size) as Float32Array | Float64Array, [h.shape[1], h.shape[2]])
}

const planRecurrent = (layer: unknown, params: unknown, dtype: DType | null): RecurrentPlan | ElmanPlan => {
  if (!isRecurrentLayer(layer)) refuse('the model must be nn.lstm, nn.gru, nn.rnn or nn.elman, or an nn.sequenceModel / nn.seedNetwork over them; got something that is not a recurrent layer.')
  const body = layer as RecurrentLayer
  if (ELMAN_STACK.test(body.name)) return planElman(body, params, dtype)
  const kind = KINDS[body.name]
  if (kind === undefined) {
    refuse(`the recurrent layer ${body.name} cannot be exported: only nn.lstm, nn.gru and nn.rnn (with numLayers and bidirectional), nn.elman and stacks of nn.elman (nn.seedNetwork) map onto ONNX's LSTM, GRU and RNN nodes.`)
  }
  const p = tensorLeaves(`the recurrent layer's (${body.name})`, params)
  const directions = body.directions
  const hiddenSize = body.stateSizes[0]
  const numLayers = body.stateSizes.length / directions
  const options = { inputSize: body.inputSize, hiddenSize, numLayers, bidirectional: directions === 2 }
  const candidates: readonly ['Tanh' | 'Relu', RecurrentLayer][] = kind === 'lstm'
    ? [['Tanh', lstm(options) as unknown as RecurrentLayer]]
    : kind === 'gru'
      ? [['Tanh', gru(options) as unknown as RecurrentLayer]]
      : [['Tanh', rnn({ ...options, nonlinearity: 'tanh' }) as unknown as RecurrentLayer], ['Relu', rnn({ ...options, nonlinearity: 'relu' }) as unknown as RecurrentLayer]]
  const probe = normal(randomKey(0x0e1), [2, 3, body.inputSize], { dtype: dtype ?? dtypeOf(p) })
  const own = tryApply(() => body.apply(p, probe))
  if (own === null) {
    refuse(`${body.name}'s apply failed on its own parameters; check that they are this layer's (e.g. weight_ih_l0 [${(kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1) * hiddenSize}, ${body.inputSize}]).`)
  }
  const found = candidates.find(([, candidate]) => {
    const theirs = tryApply(() => candidate.apply(p, probe))
    return theirs !== null && agrees(own!.outputs, theirs.outputs, probe.dtype) &&
      body.stateNames.every((n) => agrees(own!.state[n] as Tensor, theirs.state[n] as Tensor, probe.dtype))
  })
  if (found === undefined) {
    refuse(
      `${body.name} (parameters ${Object.keys(p).join(', ')}) does not compute what ${body.name}({ hiddenSize: ${hiddenSize}, numLayers: ${numLayers}, ` +
        `bidirectional: ${directions === 2} }) computes with them; only layers built by ${body.name}(...) export (not nn.recurrent(spec) or a custom cell under its name).`,
    )
  }
  return { kind, nonlinearity: found![0], inputSize: body.inputSize, hiddenSize, numLayers, directions, stateNames: body.stateNames, params: p }
}

const ACTIVATIONS: readonly ActivationName[] = ['identity', 'tanh', 'relu', 'leakyRelu', 'sigmoid', 'softmax']

const planOutput = (layer: { readonly inputSize: number; readonly outputSize: number; apply(p: Params, x: Tensor): Tensor }, params: unknown, dtype: DType): OutputPlan => {
  const p = tensorLeaves("the output layer's", params)
  const bias = p.b !== undefined
  const unexpected = Object.keys(p).filter((k) => k !== 'w' && k !== 'b')
  if (unexpected.length > 0 || p.w === undefined) {
    refuse(`the output layer must be nn.linear or nn.dense with parameters { w, b? }, got { ${Object.keys(p).join(', ')} }.`)
  }
  // x and −x: an activation that is the identity on one side (relu, leakyRelu) shows on the other.
  const half = normal(randomKey(0x0e2), [4, layer.inputSize], { dtype })
  const values = [...half.data.map((v) => 3 * v), ...half.data.map((v) => -3 * v)]
  const probe = new Tensor(dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), [8, layer.inputSize])
  const own = tryApply(() => layer.apply(p, probe))
  if (own === null) refuse(`the output layer's apply failed on its own parameters (w must be [${layer.inputSize}, ${layer.outputSize}]).`)
  const activation = ACTIVATIONS.find((name) => {
    const theirs = tryApply(() => dense({ inputSize: layer.inputSize, outputSize: layer.outputSize, bias, activation: name }).apply(p, probe))
    return theirs !== null && agrees(own!, theirs, dtype)
  })
  if (activation === undefined) {
    refuse(`the output layer's activation is a function, not one of ${ACTIVATIONS.join(', ')}; only the named activations have ONNX equivalents.`)
  }
  return { inputSize: layer.inputSize, outputSize: layer.outputSize, activation: activation!, w: p.w, b: bias ? p.b : null }
}

/**
 * The export plan of `model` with `params`: a bare `nn.lstm`/`nn.gru`/`nn.rnn`/`nn.elman` layer
 * (or a stack of `nn.elman`), or an `nn.sequenceModel` / `nn.seedNetwork` over one with an `nn.linear`/`nn.dense` output. Throws a ValueError naming
 * the part that cannot be exported.
 */
export const planExport = (model: unknown, params: unknown): ExportPlan => {
  if (typeof model !== 'object' || model === null) refuse(`the model must be a recurrent layer or an nn.sequenceModel, got ${model === null ? 'null' : typeof model}.`)
  if (isRecurrentLayer(model)) {
    const recurrent = planRecurrent(model, params, null)
    return { dtype: dtypeOf(recurrent.params), recurrent, output: null, readout: 'perStep' }
  }
  const m = model as { recurrent?: unknown; output?: unknown; readout?: unknown }
  if (m.recurrent === undefined || m.output === undefined) {
    refuse('the model must be nn.lstm, nn.gru, nn.rnn or nn.elman, or an nn.sequenceModel / nn.seedNetwork over them (with recurrent, output and readout).')
  }
  const sp = params as { recurrent?: unknown; output?: unknown } | null
  if (typeof sp !== 'object' || sp === null || sp.recurrent === undefined || sp.output === undefined) {
    refuse('an nn.sequenceModel\'s parameters must be { recurrent, output }.')
  }
  const recurrent = planRecurrent(m.recurrent, sp!.recurrent, null)
  const dtype = dtypeOf(recurrent.params)
  const output = planOutput(m.output as Parameters<typeof planOutput>[0], sp!.output, dtype)
  if (output.w.dtype !== dtype) refuse(`the output layer's parameters are ${output.w.dtype} but the recurrent layer's are ${dtype}; cast them to one dtype.`)
  const readout = m.readout === 'lastStep' ? 'lastStep' : m.readout === 'perStep' ? 'perStep' : refuse(`unknown readout ${JSON.stringify(m.readout)}.`)
  return { dtype, recurrent, output, readout }
}
