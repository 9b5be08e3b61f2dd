/**
 * @file `io.toOnnx`: a scangrad recurrent model as an ONNX ModelProto with native LSTM / GRU / RNN
 * nodes, batch-first input, dynamic batch and time axes, optional initial states and PyTorch's
 * `h_n` layout for the final states. What the model is comes from onnxPlan.ts; the protobuf from
 * onnxGraph.ts (onnx-proto).
 */
import { ValueError } from '../errors.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type Dim, GraphBuilder } from './onnxGraph.js'
import { type ElmanPlan, type ExportPlan, type OutputPlan, type RecurrentPlan, planExport } from './onnxPlan.js'

/** Options of `toOnnx`. */
export interface OnnxOptions {
  /** The graph's name. Default 'scangrad'. */
  readonly graphName?: string
  /** Free text stored as the model's doc string. */
  readonly docString?: string
  /**
   * How the initial states `h0` (and `c0`) are inputs (Elman layers: see `toOnnx`). 'optional' (default): each input has a
   * zeros default (an initializer of the same name, ONNX IR ≥ 4), so it may be left out; runtimes
   * that override initializers (onnxruntime's C/C++/Python API) also accept it fed.
   * onnxruntime-web accepts no feed for such an input, so 'required' makes them plain inputs
   * that must be fed (zeros for a fresh start).
   */
  readonly initialStates?: 'optional' | 'required'
  /**
   * The graph's float type; default the parameters' dtype. A float64 graph is valid ONNX, but
   * onnxruntime (1.31) has no double kernels for LSTM, GRU or RNN: 'float32' exports a float64
   * model for it (weights rounded to float32).
   */
  readonly dtype?: 'float32' | 'float64'
}

// ONNX's gate order, as indices of PyTorch's blocks: LSTM (i, f, g, o) → (i, o, f, c); GRU
// (r, z, n) → (z, r, h); an RNN has one block.
const GATE_ORDER: Readonly<Record<RecurrentPlan['kind'], readonly number[]>> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] }

/** The rows of `t` ([G·hidden, ...] or [G·hidden]) with its G blocks reordered. */
const reorderBlocks = (t: Tensor, order: readonly number[]): number[] => {
  const rowLength = t.shape.length === 1 ? 1 : t.shape[1]
  const block = (t.shape[0] / order.length) * rowLength
  return order.flatMap((g) => Array.from(t.data.subarray(g * block, (g + 1) * block)))
}

const param = (plan: RecurrentPlan, name: string, layer: number, direction: number): Tensor => {
  const key = `${name}_l${layer}${direction === 1 ? '_reverse' : ''}`
  const value = plan.params[key]
  if (value === undefined) throw new ValueError(`io.toOnnx: the recurrent layer's parameter ${key} is missing.`)
  return value
}

/** ONNX's W [D, G·H, in], R [D, G·H, H] and B [D, 2·G·H] = [Wb, Rb] of one layer. */
const layerWeights = (g: GraphBuilder, plan: RecurrentPlan, layer: number): [string, string, string] => {
  const order = GATE_ORDER[plan.kind]
  const gates = order.length * plan.hiddenSize
  const directions = Array.from({ length: plan.directions }, (_, d) => d)
  const inputSize = param(plan, 'weight_ih', layer, 0).shape[1]
  const w = directions.flatMap((d) => reorderBlocks(param(plan, 'weight_ih', layer, d), order))
  const r = directions.flatMap((d) => reorderBlocks(param(plan, 'weight_hh', layer, d), order))
  const b = directions.flatMap((d) => [...reorderBlocks(param(plan, 'bias_ih', layer, d), order), ...reorderBlocks(param(plan, 'bias_hh', layer, d), order)])
  return [
    g.floats(`W_l${layer}`, [plan.directions, gates, inputSize], w),
    g.floats(`R_l${layer}`, [plan.directions, gates, plan.hiddenSize], r),
    g.floats(`B_l${layer}`, [plan.directions, 2 * gates], b),
  ]
}

const OP_TYPE = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' } as const

/**
 * The recurrent stack on time-major `xt` [T, B, in]: returns the top layer's outputs [T, B, D·H]
 * and, per state name, the final states [L·D, B, H].
 */
const recurrentStack = (g: GraphBuilder, plan: RecurrentPlan, xt: string, initial: Readonly<Record<string, string>>) => {
  const { directions: D, hiddenSize: H } = plan
  let inputs = xt
  const finals: Record<string, string[]> = Object.fromEntries(plan.stateNames.map((n) => [n, []]))
  for (let layer = 0; layer < plan.numLayers; layer++) {
    const [w, r, b] = layerWeights(g, plan, layer)
    const starts = g.ints('start', [1], [layer * D])
    const ends = g.ints('end', [1], [(layer + 1) * D])
    const axes = g.ints('axis', [1], [0])
    const slice = (n: string) => g.op('Slice', [initial[n], starts, ends, axes])
    const attributes = {
      hidden_size: H,
      direction: D === 2 ? 'bidirectional' : 'forward',
      ...(plan.kind === 'gru' ? { linear_before_reset: 1 } : {}),
      ...(plan.kind === 'rnn' ? { activations: Array.from({ length: D }, () => plan.nonlinearity) } : {}),
    }
    // Inputs: X, W, R, B, sequence_lens (none: every step is real), initial_h[, initial_c].
    const nodeInputs = [inputs, w, r, b, '', slice('h'), ...(plan.kind === 'lstm' ? [slice('c')] : [])]
    const [y, yH, yC] = g.node(OP_TYPE[plan.kind], nodeInputs, attributes, plan.kind === 'lstm' ? 3 : 2)
    finals.h.push(yH)
    if (plan.kind === 'lstm') finals.c.push(yC)
    // Y is [T, D, B, H]; the next layer reads [T, B, D·H], forward features first as scangrad concatenates them.
    const batchMajor = g.op('Transpose', [y], { perm: [0, 2, 1, 3] })
    inputs = g.op('Reshape', [batchMajor, g.ints('shape', [3], [0, 0, D * H])])
  }
  const states = Object.fromEntries(Object.entries(finals).map(([n, parts]) => [n, parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: 0 })]))
  return { ys: inputs, states }
}

const ONNX_ACTIVATION = { identity: null, tanh: 'Tanh', relu: 'Relu', sigmoid: 'Sigmoid', leakyRelu: 'LeakyRelu', softmax: 'Softmax' } as const

const outputLayer = (g: GraphBuilder, output: OutputPlan, features: string): string => {
  const w = g.floats('output_w', [output.inputSize, output.outputSize], output.w.data)
  const product = g.op('MatMul', [features, w])
  const affine = output.b === null ? product : g.op('Add', [product, g.floats('output_b', [output.outputSize], output.b.data)])
  const op = ONNX_ACTIVATION[output.activation]
  if (op === null) return affine
  // scangrad's leakyRelu has the seed's slope 10⁻³; softmax is over the last axis.
  if (op === 'LeakyRelu') return g.op(op, [affine], { alpha: 1e-3 })
  if (op === 'Softmax') return g.op(op, [affine], { axis: -1 })
  return g.op(op, [affine])
}

const STATE_INPUT: Readonly<Record<string, string>> = { h: 'h0', c: 'c0' }
const STATE_OUTPUT: Readonly<Record<string, string>> = { h: 'h_n', c: 'c_n' }

/** A body's result: time-major outputs [T, B, features] and the state outputs, in order. */
interface Body {
  readonly ys: string
  readonly features: number
  readonly states: readonly { readonly name: string; readonly value: string; readonly dims: readonly Dim[] }[]
}

type InitialStates = 'optional' | 'required'

/** nn.lstm / nn.gru / nn.rnn: initial states as inputs, final states in PyTorch's `h_n` layout. */
const torchBody = (g: GraphBuilder, rec: RecurrentPlan, x: string, mode: InitialStates): Body => {
  const slices = rec.numLayers * rec.directions
  // An initial state left out is zeros [L·D, 1, H] (its default); Expand broadcasts either to [L·D, B, H].
  const batch = g.op('Gather', [g.op('Shape', [x]), g.ints('index', [1], [0])], { axis: 0 })
  const broadcastShape = g.op('Concat', [g.ints('one', [1], [1]), batch, g.ints('one', [1], [1])], { axis: 0 })
  const initial = Object.fromEntries(rec.stateNames.map((n) => {
    const zeros = { dims: [slices, 1, rec.hiddenSize], values: new Array<number>(slices * rec.hiddenSize).fill(0) }
    const given = g.input(STATE_INPUT[n], [slices, 'batch', rec.hiddenSize], mode === 'optional' ? zeros : undefined)
    return [n, g.op('Expand', [given, broadcastShape])]
  }))
  const xt = g.op('Transpose', [x], { perm: [1, 0, 2] })
  const { ys, states } = recurrentStack(g, rec, xt, initial)
  return {
    ys,
    features: rec.hiddenSize * rec.directions,
    states: rec.stateNames.map((n) => ({ name: STATE_OUTPUT[n], value: states[n], dims: [slices, 'batch', rec.hiddenSize] })),
  }
}

/**
 * nn.elman and stacks of it (nn.seedNetwork's body), one ONNX RNN node per layer. The seed's time
 * term, bTime included, is off at a fresh sequence's first step: each layer reads [x_t, c_t] with
 * c_t = [t > 0] (built from x's time axis, so time stays dynamic) and W = [wLayerᵀ | bTimeᵀ],
 * Wb = bLayer, R = wTimeᵀ, Rb = 0. With h0 = 0 the first step is σ(x·wLayer + bLayer) exactly,
 * and every later step σ(x·wLayer + bLayer + h·wTime + bTime). A run from given initial states
 * (initialStates 'required') continues sequences, so there c_t = 1 from the first step, as in
 * scangrad. In 'optional' mode the graph has no state inputs at all: a zero h0 is not a fresh
 * start for the seed's rule, so feeding one there could only be wrong.
 * Uniform hidden sizes: states `[L, batch, H]` (h0, h_n); mixed: one per layer, `[batch, H_k]`
 * (h0_l0, h_n_l0, ...), the entries of scangrad's state array.
 */
const elmanBody = (g: GraphBuilder, rec: ElmanPlan, x: string, mode: InitialStates): Body => {
  const L = rec.layers.length
  const uniform = rec.layers.every((l) => l.hiddenSize === rec.layers[0].hiddenSize)
  const H = rec.layers[0].hiddenSize
  const given = mode === 'optional'
    ? null
    : uniform
      ? [g.input('h0', [L, 'batch', H])]
      : rec.layers.map((l, k) => g.input(`h0_l${k}`, ['batch', l.hiddenSize]))
  const xt = g.op('Transpose', [x], { perm: [1, 0, 2] })
  // c [T, B, 1]: t > 0 for a fresh start, t > −1 (all ones) for a continued one.
  const shape = g.op('Shape', [xt])
  const time = g.op('Gather', [shape, g.ints('index', [], [0])], { axis: 0 })
  const steps = g.op('Range', [g.ints('zero', [], [0]), time, g.ints('one', [], [1])])
  const on = g.op('Cast', [g.op('Greater', [steps, g.ints('first', [], [mode === 'optional' ? 0 : -1])])], { to: g.elementType })
  const batch = g.op('Gather', [shape, g.ints('index', [1], [1])], { axis: 0 })
  const c = g.op('Expand', [g.op('Reshape', [on, g.ints('shape', [3], [-1, 1, 1])]), g.op('Concat', [g.ints('one', [1], [1]), batch, g.ints('one', [1], [1])], { axis: 0 })])
  let inputs = xt
  const finals: string[] = []
  rec.layers.forEach((layer, k) => {
    const { inputSize: I, hiddenSize: Hk } = layer
    // W [1, H, I + 1]: row j is (wLayer[:, j], bTime[j]); R [1, H, H]: row j is wTime[:, j].
    const w = Array.from({ length: Hk }, (_, j) => [...Array.from({ length: I }, (_, i) => layer.wLayer.data[i * Hk + j]), layer.bTime.data[j]]).flat()
    const r = Array.from({ length: Hk }, (_, j) => Array.from({ length: Hk }, (_, i) => layer.wTime.data[i * Hk + j])).flat()
    const b = [...layer.bLayer.data, ...new Array<number>(Hk).fill(0)]
    let h0 = ''
    if (given !== null) {
      h0 = uniform
        ? g.op('Slice', [given[0], g.ints('start', [1], [k]), g.ints('end', [1], [k + 1]), g.ints('axis', [1], [0])])
        : g.op('Unsqueeze', [given[k], g.ints('axis', [1], [0])])
    }
    const augmented = g.op('Concat', [inputs, c], { axis: -1 })
    // Inputs: X, W, R, B, sequence_lens (none), initial_h (none, i.e. zeros, for a fresh start).
    const weights = [augmented, g.floats(`W_l${k}`, [1, Hk, I + 1], w), g.floats(`R_l${k}`, [1, Hk, Hk], r), g.floats(`B_l${k}`, [1, 2 * Hk], b)]
    const [y, yH] = g.node('RNN', h0 === '' ? weights : [...weights, '', h0], { hidden_size: Hk, direction: 'forward', activations: [layer.activation] }, 2)
    finals.push(yH)
    // Y is [T, 1, B, H]: drop the direction axis.
    inputs = g.op('Squeeze', [y, g.ints('axis', [1], [1])])
  })
  const states = uniform
    ? [{ name: 'h_n', value: finals.length === 1 ? finals[0] : g.op('Concat', finals, { axis: 0 }), dims: [L, 'batch', H] as Dim[] }]
    : finals.map((f, k) => ({ name: `h_n_l${k}`, value: g.op('Squeeze', [f, g.ints('axis', [1], [0])]), dims: ['batch', rec.layers[k].hiddenSize] as Dim[] }))
  return { ys: inputs, features: rec.layers[L - 1].hiddenSize, states }
}

const buildGraph = (plan: ExportPlan, options: OnnxOptions): Uint8Array => {
  const mode = options.initialStates ?? 'optional'
  if (mode !== 'optional' && mode !== 'required') {
    throw new ValueError(`io.toOnnx: initialStates must be 'optional' or 'required', got ${JSON.stringify(options.initialStates)}.`)
  }
  const dtype = options.dtype ?? plan.dtype
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`io.toOnnx: dtype must be 'float32' or 'float64', got ${JSON.stringify(options.dtype)}.`)
  const g = new GraphBuilder(dtype)
  const rec = plan.recurrent
  const x = g.input('x', ['batch', 'time', rec.inputSize])
  const { ys, features, states } = rec.kind === 'elman' ? elmanBody(g, rec, x, mode) : torchBody(g, rec, x, mode)
  if (plan.output === null) {
    g.output('y', g.op('Transpose', [ys], { perm: [1, 0, 2] }), ['batch', 'time', features])
  } else if (plan.readout === 'perStep') {
    g.output('y', outputLayer(g, plan.output, g.op('Transpose', [ys], { perm: [1, 0, 2] })), ['batch', 'time', plan.output.outputSize])
  } else {
    // Unmasked, every sequence's last real step is the last time step (the backward direction's first).
    const last = g.op('Gather', [ys, g.ints('last', [], [-1])], { axis: 0 })
    g.output('y', outputLayer(g, plan.output, last), ['batch', plan.output.outputSize])
  }
  for (const s of states) g.output(s.name, s.value, s.dims)
  return g.encode(options.graphName ?? 'scangrad', options.docString ?? '')
}

/**
 * A trained model as an ONNX ModelProto (opset 14): `nn.lstm`, `nn.gru`, `nn.rnn` (tanh or relu;
 * `numLayers`, `bidirectional`), `nn.elman` (tanh, relu or sigmoid) and stacks of it, alone or in an
 * `nn.sequenceModel` / `nn.seedNetwork` with an `nn.linear`/`nn.dense` output (per-step or last-step
 * readout). Elman layers follow the seed's first-step rule (see `elmanBody`): their graph has no
 * state input unless `initialStates: 'required'`, which runs continued sequences from the fed `h0`
 * (`h0_l0`, ... and `h_n_l0`, ... `[batch, H_k]` when the hidden sizes differ). Inputs: `x` `[batch, time, features]` (batch first, both
 * axes dynamic), then the optional initial states `h0` (and `c0` for an LSTM), `[layers ×
 * directions, batch, hidden]`, zeros when left out. Outputs: `y` (what `apply` returns), then
 * `h_n` (and `c_n`) in PyTorch's layout (see `OnnxOptions.initialStates` for onnxruntime-web). The graph's float type is the parameters' dtype.
 * PyTorch's gate order becomes ONNX's (LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h) and GRUs get
 * `linear_before_reset = 1`. Masks and lengths are not exported: every step of `x` is real.
 * Throws a ValueError naming the part it cannot export (e.g. an Elman layer with leakyRelu, a custom activation).
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const model = nn.sequenceModel({
 *   recurrent: nn.lstm({ inputSize: 3, hiddenSize: 8, numLayers: 2 }),
 *   output: nn.linear({ inputSize: 8, outputSize: 1 }),
 * })
 * const bytes = io.toOnnx(model, model.init(randomKey(0)), { dtype: 'float32' }) // an ONNX ModelProto
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-')), 'model.onnx')
 * await io.writeFileAtomic(file, bytes) // ready for onnxruntime: inputs x, h0, c0; outputs y, h_n, c_n
 * console.log(fs.statSync(file).size > 0) // true
 * try {
 *   const leaky = nn.elman({ inputSize: 1, hiddenSize: 2, activation: 'leakyRelu' })
 *   io.toOnnx(leaky, leaky.init(randomKey(0)))
 * } catch (e) {
 *   console.log((e as Error).message) // io.toOnnx: nn.elman has an activation ONNX's RNN node cannot express: only tanh, relu and sigmoid export …
 * }
 * ```
 * @category io
 */
export const toOnnx = (model: unknown, params: unknown, options: OnnxOptions = {}): Uint8Array =>
  buildGraph(planExport(model, params), options)
