/**
 * @file The recurrent machinery shared by every recurrent layer: a cell (one time step) becomes a
 * layer with `recurrent`, layers run both ways with `bidirectional`, and stack with `stacked`. All
 * three implement one time-major core (`run`); the public batch-first `apply` — input checks,
 * masks, initial and final states in PyTorch's layout — is written once, in `recurrentLayer`.
 * Imports ops, scan, random and tree.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { cast } from '../autodiff/ops/elementwise.js'
import { concat, expandDims, reshape, slice, stack, transpose, unstack } from '../autodiff/ops/structural.js'
import { type Key, splitKey } from '../random/random.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import { scan } from '../transforms/scan.js'
import { type InitOptions, type Initializer, type ParamShapes, type Params, checkParams, init as initializers, initParams } from './init.js'
import { type SequenceMask, lastStep, maskValues, timeMajorMask } from './masks.js'
import { dropout } from './dropout.js'

// ---- cells ----

/** A carry: named tensors, each `[batch, ...]`. */
export type Carry = { readonly [name: string]: Tensor }

/**
 * A cell is one time step, `(params, carry, x_t) → [carry_t, y_t]`, with `x_t` `[batch, inputSize]`
 * and `y_t` `[batch, hiddenSize]`.
 * @category cells
 */
export type Cell<C extends Carry = Carry> = (params: Params, carry: C, x: Tensor) => readonly [C, Tensor]

/** The sizes a cell's parameters are declared for. */
export interface CellSizes {
  readonly inputSize: number
  readonly hiddenSize: number
}

/**
 * What the machinery tells `project` about the steps of a run. `continued[t, b]` (`[time, batch, 1]`,
 * 0/1) is 1 when the carry entering step t of sequence b comes from an earlier real step or from a
 * given initial state, and 0 while it is still the fresh initial carry (so a cell can treat a
 * sequence's first step specially — the seed's Elman layer has no time term there — without a
 * per-step test).
 */
export interface StepInfo {
  readonly continued: Tensor
}

/**
 * A cell with its time-independent work done once per sequence: `project` maps every step's input
 * at once (`[time, batch, inputSize]` → `[time, ...]`, or batch-major, typically one big matmul),
 * and `step` consumes one projected step. `cell(p, c, x)` must equal
 * `step(c, project([x], continued = 1)[0])`. A step may carry a sequence kernel
 * (`withSequenceKernel`), which `scan` runs over every step at once.
 */
export interface BoundCell<C extends Carry = Carry> {
  readonly project: (xs: Tensor, steps: StepInfo) => Tensor
  readonly step: (carry: C, projected: Tensor) => readonly [C, Tensor]
}

/**
 * Everything the machinery needs to run a cell over sequences. A user-written cell needs only
 * `name`, `params` and `cell`; `bind` is the optional fast path (hoisting input projections and
 * weight transposes out of the time loop).
 * @category cells
 */
export interface CellSpec<C extends Carry = Carry> {
  /** The public name used in error messages, e.g. `nn.lstm`. */
  readonly name: string
  /** The parameter shapes for given sizes; rank-1 entries are biases. */
  readonly params: (sizes: CellSizes) => ParamShapes
  /** One time step on raw inputs. */
  readonly cell: Cell<C>
  /** The time-independent part hoisted out of the step (default: none; `cell` runs per step). */
  readonly bind?: (params: Params) => BoundCell<C>
  /**
   * Whether `scan` may trace the cell's step once and run the traced operations for every step
   * (`ScanOptions.traceStep`: step-invariant work once, weight gradients as one product over all
   * steps). True (default) for a cell that does the same operations at every step, as a cell
   * written with tensor operations does; set false for one that branches on tensor values or keeps
   * state between calls.
   */
  readonly traceable?: boolean
  /**
   * The layout the step's kernel takes without transposing: 1 for batch-major `[batch, time, …]`,
   * 0 (default) for time-major. A layer projects and scans in this layout.
   */
  readonly timeAxis?: 0 | 1
  /** The carry entries exported as the layer's state, each `[batch, hiddenSize]`. Default `['h']`. */
  readonly state?: readonly string[]
  /**
   * The carry at a sequence's start, from a given state (each entry `[batch, hiddenSize]`) or
   * none. Default: the given state, or zeros.
   */
  readonly initialCarry?: (state: Carry | null, batch: number, sizes: CellSizes, dtype: DType) => C
  /** The initialiser used when the layer's options name none, for given sizes. Default `nn.init.seed`. */
  readonly init?: (sizes: CellSizes) => Initializer
}

/**
 * The bound form of any spec: its own `bind`, or its `cell` applied per raw step.
 * @example
 * ```ts
 * const params = nn.recurrent(nn.lstmSpec, { inputSize: 2, hiddenSize: 3 }).init(randomKey(0)) // weight_ih, weight_hh, …
 * const bound = nn.bindCell(nn.lstmSpec, params)
 * const xs = normal(randomKey(1), [5, 4, 2]) // time-major [time, batch, in]
 * const projected = bound.project(xs, { continued: ones([5, 4, 1]) }) // every step's input projection, one product
 * const [carry, y] = bound.step({ h: zeros([4, 3]), c: zeros([4, 3]) }, unstack(projected)[0])
 * console.log(projected.shape, y.shape, carry.c.shape) // [5, 4, 12] [4, 3] [4, 3]
 * ```
 * @category cells
 */
export const bindCell = <C extends Carry>(spec: CellSpec<C>, params: Params): BoundCell<C> =>
  spec.bind?.(params) ?? { project: (xs) => xs, step: (carry, x) => spec.cell(params, carry, x) }

/**
 * The plain cell of a bound form: projects one (continuing) step and runs it.
 * @example
 * ```ts
 * // A tanh RNN written once, in bound form: the input projection of all steps is one product.
 * const bind = (p: nn.Params): nn.BoundCell<{ h: Tensor }> => ({
 *   project: (xs) => add(matmul(xs, p.wx), p.b),
 *   step: ({ h }, projected) => {
 *     const next = tanh(add(projected, matmul(h, p.wh)))
 *     return [{ h: next }, next]
 *   },
 * })
 * const spec: nn.CellSpec<{ h: Tensor }> = {
 *   name: 'tanhRnn',
 *   params: ({ inputSize, hiddenSize }) => ({ wx: [inputSize, hiddenSize], wh: [hiddenSize, hiddenSize], b: [hiddenSize] }),
 *   cell: nn.cellOfBind(bind), // the same cell, one raw step at a time
 *   bind,
 * }
 * const params = nn.initParams(randomKey(0), spec.params({ inputSize: 2, hiddenSize: 3 }), nn.init.normal(0.5))
 * const [carry, y] = spec.cell(params, { h: zeros([4, 3]) }, ones([4, 2]))
 * console.log(y.shape, carry.h.shape) // [4, 3] [4, 3]
 * ```
 * @category cells
 */
export const cellOfBind = <C extends Carry>(bind: (params: Params) => BoundCell<C>): Cell<C> =>
  (params, carry, x) => {
    const bound = bind(params)
    const continued = full([1, x.shape[0], 1], 1, { dtype: x.dtype })
    return bound.step(carry, unstack(bound.project(expandDims(x, 0), { continued }))[0])
  }

// ---- layers ----

/** Per state name, one `[batch, hidden]` tensor per state slice (layer × direction). */
export type StateSlices = { readonly [name: string]: readonly Tensor[] }

/**
 * Final (or initial) states: per name (`h`, and `c` for LSTMs), a `[slices, batch, hidden]`
 * tensor in PyTorch's `h_n` layout (slice = layer × directions + direction). When the slices of a
 * stack have different hidden sizes, the entry is instead an array of `[batch, hidden_k]` tensors.
 * @category model
 */
export type RecurrentState = { readonly [name: string]: Tensor | readonly Tensor[] }

/** The options every recurrent layer's `apply` accepts. */
export interface RecurrentOptions<S = RecurrentState> extends SequenceMask {
  /** The state to start from (default zeros), in the layout of the returned `state`. */
  readonly initialState?: S
  /** Enables dropout between stacked layers (layers built with a dropout rate); none without it. */
  readonly key?: Key
  /** Runs the sequences backwards, each from its own last real step. */
  readonly reverse?: boolean
  /**
   * 'lastStep': `outputs` is `nn.lastStep(outputs, options)`, `[batch, outputSize]`, computed
   * without the other steps' outputs where the run allows (unmasked, forwards, one direction).
   * Default 'all'.
   */
  readonly outputs?: 'all' | 'lastStep'
}

/** What a recurrent layer's `apply` returns. */
export interface RecurrentOutput<S = RecurrentState> {
  /** `[batch, time, outputSize]`, 0 at padded steps; `[batch, outputSize]` with `outputs: 'lastStep'`. */
  readonly outputs: Tensor
  /** The state after each sequence's last real step, `[slices, batch, hidden]` per name. */
  readonly state: S
}

/** The time-major core's context. */
export interface RunContext {
  /** Per state name, one `[batch, hidden]` per slice, or null for zeros. */
  readonly initial: StateSlices | null
  /** `[time, batch, 1]` 0/1 (in xs' layout), or null when every step is real. */
  readonly mask: Tensor | null
  readonly key: Key | null
  readonly reverse: boolean
  /** The axis of time in xs, the mask and ys: 0 (time-major) or 1 (batch-major). */
  readonly timeAxis: 0 | 1
  /**
   * 'last': ys is the last time step's outputs alone, `[batch, outputSize]` (only asked of an
   * unmasked forward run).
   */
  readonly outputs: 'all' | 'last'
  /** The full name (with stacking suffixes) of one of this layer's parameters, for messages. */
  readonly paramName: (name: string) => string
}

/** The core's result: outputs in xs' layout (see `RunContext.outputs`) and final state slices. */
export interface RunResult {
  readonly ys: Tensor
  readonly final: StateSlices
}

/** The size and state metadata every recurrent layer carries. */
export interface RecurrentCore {
  readonly name: string
  readonly inputSize: number
  readonly outputSize: number
  /** Names of the state entries, e.g. `['h', 'c']`. */
  readonly stateNames: readonly string[]
  /** The hidden size of each state slice (length = layers × directions). */
  readonly stateSizes: readonly number[]
  /** 2 when the layer already runs in both directions (it cannot be wrapped again). */
  readonly directions: 1 | 2
  init(key: Key, options?: InitOptions): Params
  /** The layout the core runs in without transposing (see `BoundCell.timeAxis`). */
  readonly timeAxis: 0 | 1
  /** The core: `xs` is `[time, batch, inputSize]`, or `[batch, time, inputSize]` when `context.timeAxis` is 1. */
  run(params: Params, xs: Tensor, context: RunContext): RunResult
}

/**
 * A recurrent layer: `apply(params, xs [batch, time, inputSize], { initialState?, mask?, lengths? })`
 * → `{ outputs [batch, time, outputSize], state }`, with `state` shaped like PyTorch's
 * `h_n`/`c_n`: `[layers × directions, batch, hidden]`.
 * @category model
 */
export interface RecurrentLayer<S = RecurrentState> extends RecurrentCore {
  readonly kind: 'scangrad.recurrentLayer'
  // A method signature, so RecurrentLayer<LstmState> is usable where a RecurrentLayer is expected.
  apply(params: Params, xs: Tensor, options?: RecurrentOptions<S>): RecurrentOutput<S>
}

const checkInputs = (core: RecurrentCore, xs: unknown): Tensor => {
  if (!(xs instanceof Tensor)) {
    throw new ValueError(`${core.name}: xs must be a Tensor [batch, time, ${core.inputSize}], got ${xs === null ? 'null' : typeof xs}.`)
  }
  if (xs.rank !== 3) {
    throw new ShapeError(
      `${core.name}: xs must be [batch, time, features] = [batch, time, ${core.inputSize}], got ${showShape(xs.shape)} (rank ${xs.rank}). ` +
        'Add the missing axes with reshape or expandDims (a single sequence is batch 1).',
    )
  }
  const features = xs.shape[2]
  if (features !== core.inputSize) {
    throw new ShapeError(
      `${core.name}: the input layer expects ${core.inputSize} features per step, but xs is ${showShape(xs.shape)} ` +
        `(${features} features). Pass inputs [batch, time, ${core.inputSize}], or build the layer with inputSize: ${features}.`,
    )
  }
  if (xs.shape[1] === 0) throw new ShapeError(`${core.name}: xs has no time steps (${showShape(xs.shape)}).`)
  return xs
}

const uniformSizes = (sizes: readonly number[]): boolean => sizes.every((s) => s === sizes[0])

/** Public state → per-slice `[batch, hidden]` tensors, checking names and shapes. */
const unpackState = (core: RecurrentCore, state: unknown, batch: number): StateSlices => {
  const slices = core.stateSizes.length
  const expected = uniformSizes(core.stateSizes)
    ? `[${slices}, ${batch}, ${core.stateSizes[0]}]`
    : `an array of ${slices} tensors [${batch}, hidden] with hidden = ${core.stateSizes.join(', ')}`
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new TreeError(`${core.name}: initialState must be { ${core.stateNames.join(', ')} }, each ${expected}.`)
  }
  const record = state as Record<string, unknown>
  const extra = Object.keys(record).filter((k) => !core.stateNames.includes(k))
  if (extra.length > 0) throw new TreeError(`${core.name}: initialState has unexpected entries ${extra.join(', ')}; expected { ${core.stateNames.join(', ')} }.`)
  return Object.fromEntries(
    core.stateNames.map((name) => {
      const value = record[name]
      const parts = value instanceof Tensor && value.rank === 3 && value.shape[0] === slices ? unstack(value) : value
      const ok = Array.isArray(parts) && parts.length === slices &&
        parts.every((p, k) => p instanceof Tensor && p.rank === 2 && p.shape[0] === batch && p.shape[1] === core.stateSizes[k])
      if (!ok) {
        const seen = value instanceof Tensor ? showShape(value.shape) : Array.isArray(value) ? `an array of ${value.length}` : String(value)
        throw new ShapeError(`${core.name}: initialState.${name} must be ${expected} (layers × directions, batch, hidden), got ${seen}.`)
      }
      return [name, parts as Tensor[]]
    }),
  )
}

/** Per-slice final states → the public layout. */
const packState = (core: RecurrentCore, final: StateSlices): RecurrentState =>
  Object.fromEntries(core.stateNames.map((name) => [name, uniformSizes(core.stateSizes) ? stack(final[name], 0) : final[name]]))

/**
 * Gives a time-major core its public batch-first `apply`: checks the inputs, turns `mask` or
 * `lengths` into the time-major mask, unpacks `initialState`, runs the core and packs the final
 * state in PyTorch's layout. Every recurrent layer — built-in or user-written — goes through here.
 * @example
 * ```ts
 * // A core without parameters: the running sum of the inputs, run by scan (time-major inside).
 * const core: nn.RecurrentCore = {
 *   name: 'runningSum', inputSize: 2, outputSize: 2, stateNames: ['h'], stateSizes: [2], directions: 1, timeAxis: 0,
 *   init: () => ({}),
 *   run: (_params, xs, context) => {
 *     const step = (h: Tensor, x: Tensor): [Tensor, Tensor] => {
 *       const next = add(h, x)
 *       return [next, next]
 *     }
 *     const initial = context.initial === null ? zeros([xs.shape[1], 2]) : context.initial.h[0]
 *     const [h, ys] = scan(step, initial, xs, {
 *       reverse: context.reverse, outputs: context.outputs, ...(context.mask === null ? {} : { mask: context.mask }),
 *     })
 *     return { ys, final: { h: [h] } }
 *   },
 * }
 * const layer = nn.recurrentLayer<nn.HiddenState>(core)
 * const xs = tensor([[[1, 10], [2, 20], [3, 30]]]) // [batch, time, features] = [1, 3, 2]
 * const { outputs, state } = layer.apply({}, xs, { lengths: [2] })
 * console.log(outputs.toArray(), state.h.toArray()) // [[[1, 10], [3, 30], [0, 0]]] [[[3, 30]]]
 * ```
 * @category model
 */
export const recurrentLayer = <S = RecurrentState>(core: RecurrentCore): RecurrentLayer<S> => ({
  ...core,
  kind: 'scangrad.recurrentLayer',
  apply: (params, xs, options = {}) => {
    const inputs = checkInputs(core, xs)
    const [batch, time] = inputs.shape
    const outputs = options.outputs ?? 'all'
    if (outputs !== 'all' && outputs !== 'lastStep') {
      throw new ValueError(`${core.name}: outputs must be 'all' or 'lastStep', got ${JSON.stringify(options.outputs)}.`)
    }
    const mask = timeMajorMask(core.name, options, batch, time, inputs.dtype)
    const reverse = options.reverse ?? false
    // Only an unmasked forward run's last processed step is each sequence's last real step.
    const lastOnly = outputs === 'lastStep' && mask === null && !reverse
    const batchMajor = core.timeAxis === 1
    const context: RunContext = {
      initial: options.initialState === undefined ? null : unpackState(core, options.initialState, batch),
      mask: mask !== null && batchMajor ? transpose(mask, [1, 0, 2]) : mask,
      key: options.key ?? null,
      reverse,
      timeAxis: core.timeAxis,
      outputs: lastOnly ? 'last' : 'all',
      paramName: (n) => n,
    }
    const { ys, final } = core.run(params, batchMajor ? inputs : transpose(inputs, [1, 0, 2]), context)
    const state = packState(core, final) as S
    if (lastOnly) return { outputs: ys, state }
    const batchFirst = batchMajor ? ys : transpose(ys, [1, 0, 2])
    return { outputs: outputs === 'lastStep' ? lastStep(batchFirst, options) : batchFirst, state }
  },
})

// ---- one cell over time ----

/** The sizes (and optionally the initialiser) of one `recurrent` layer. */
export interface RecurrentSizes extends CellSizes {
  /** How parameters are drawn: an initialiser (see `nn.init`); default the spec's own, else 'seed'. */
  readonly init?: Initializer
}

/** `n` as a positive integer size, else an error naming `who` and `what`. */
export const checkSize = (who: string, what: string, n: unknown): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ValueError(`${who}: ${what} must be a positive integer, got ${String(n)}.`)
  return n
}

const defaultCarry = (names: readonly string[]) => (state: Carry | null, batch: number, sizes: CellSizes, dtype: DType): Carry =>
  Object.fromEntries(names.map((n) => [n, state?.[n] ?? full([batch, sizes.hiddenSize], 0, { dtype })]))

/**
 * `StepInfo.continued` for a run: 1 everywhere with a given initial state; otherwise 0 up to and
 * including each sequence's first real step in processing order, 1 after it. Time-major
 * `[time, batch, 1]`, or `[batch, time, 1]` for a batch-major run (the mask is in the same layout).
 */
const continuedSteps = (
  time: number, batch: number, mask: Tensor | null, reverse: boolean, given: boolean, dtype: DType, batchMajor = false,
): Tensor => {
  const data = allocate(dtype, time * batch)
  const shape = batchMajor ? [batch, time, 1] : [time, batch, 1]
  if (given) return new Tensor(data.fill(1), shape)
  const real = mask === null ? null : maskValues('nn.recurrent', 'mask', mask)
  for (let b = 0; b < batch; b++) {
    let seen = false
    for (let i = 0; i < time; i++) {
      const t = reverse ? time - 1 - i : i
      data[batchMajor ? b * time + t : t * batch + b] = seen ? 1 : 0
      if (real === null || real[batchMajor ? b * time + t : t * batch + b] !== 0) seen = true
    }
  }
  return new Tensor(data, shape)
}

/** What a run of one cell needs besides its inputs. */
interface Prepared<C extends Carry> {
  readonly bound: BoundCell<C>
  readonly carryIn: (dtype: DType) => C
  readonly finalOf: (carry: C) => StateSlices
}

/** Swaps time and batch: between the two layouts of a sequence (its own inverse). */
const swapLayout = (x: Tensor): Tensor => transpose(x, [1, 0, 2])

/**
 * Runs a cell over the time axis with `scan`: one direction, one layer. Its parameters are the
 * cell's, unsuffixed; its state has one slice. Padded steps (mask 0) keep the carry and output 0,
 * so each sequence's final state is its state after its own last real step, and a reversed run
 * starts each sequence at its own last real step.
 * @example
 * ```ts
 * // A cell written by hand: a tanh RNN on the concatenated [x, h].
 * const spec: nn.CellSpec<{ h: Tensor }> = {
 *   name: 'concatRnn',
 *   params: ({ inputSize, hiddenSize }) => ({ w: [inputSize + hiddenSize, hiddenSize], b: [hiddenSize] }),
 *   cell: (p, { h }, x) => {
 *     const next = tanh(add(matmul(concat([x, h], -1), p.w), p.b))
 *     return [{ h: next }, next]
 *   },
 * }
 * const layer = nn.recurrent<{ h: Tensor }, nn.HiddenState>(spec, { inputSize: 2, hiddenSize: 8 })
 * const xs = normal(randomKey(1), [3, 5, 2]) // [batch, time, features]
 * const { outputs, state } = layer.apply(layer.init(randomKey(0)), xs, { lengths: [5, 2, 4] })
 * console.log(outputs.shape, state.h.shape) // [3, 5, 8] [1, 3, 8]
 * ```
 * @category model
 */
export const recurrent = <C extends Carry, S = RecurrentState>(spec: CellSpec<C>, sizes: RecurrentSizes): RecurrentLayer<S> => {
  const name = spec.name
  const cellSizes: CellSizes = {
    inputSize: checkSize(name, 'inputSize', sizes.inputSize),
    hiddenSize: checkSize(name, 'hiddenSize', sizes.hiddenSize),
  }
  const shapes = spec.params(cellSizes)
  const stateNames = spec.state ?? ['h']
  const initialCarry = spec.initialCarry ?? (defaultCarry(stateNames) as unknown as NonNullable<CellSpec<C>['initialCarry']>)
  const initializer = sizes.init ?? spec.init?.(cellSizes) ?? initializers.seed
  /** The bound cell of a run, its initial carry in a given dtype, and its final state slices. */
  const prepare = (params: Params, context: RunContext, batch: number): Prepared<C> => ({
    bound: bindCell(spec, checkParams(name, params, shapes, context.paramName)),
    // A given state joins the computation's dtype (float64 inputs with float32 parameters compute in float64).
    carryIn: (dtype: DType): C => initialCarry(
      context.initial === null ? null : Object.fromEntries(stateNames.map((n) => [n, cast(context.initial![n][0], dtype)])),
      batch, cellSizes, dtype,
    ),
    finalOf: (carry: C): StateSlices => Object.fromEntries(stateNames.map((n) => [n, [carry[n]]])),
  })
  const timeAxis = spec.timeAxis ?? 0
  /** The run in the cell's own layout: its projection, then `scan` over its step (a kernel where the step has one). */
  const run = (params: Params, xs: Tensor, context: RunContext): RunResult => {
    if (context.timeAxis !== timeAxis) {
      const mask = context.mask === null ? null : swapLayout(context.mask)
      const { ys, final } = run(params, swapLayout(xs), { ...context, timeAxis, mask })
      return { ys: context.outputs === 'last' ? ys : swapLayout(ys), final }
    }
    const [time, batch] = timeAxis === 1 ? [xs.shape[1], xs.shape[0]] : xs.shape
    const { bound, carryIn, finalOf }: Prepared<C> = prepare(params, context, batch)
    const given = context.initial !== null
    const continued = continuedSteps(time, batch, context.mask, context.reverse, given, xs.dtype, timeAxis === 1)
    const projected = bound.project(xs, { continued })
    const [carry, ys] = scan(bound.step, carryIn(projected.dtype), projected, {
      reverse: context.reverse, timeAxis, outputs: context.outputs, traceStep: spec.traceable !== false,
      ...(context.mask === null ? {} : { mask: context.mask }),
    })
    return { ys, final: finalOf(carry) }
  }
  return recurrentLayer({
    name,
    inputSize: cellSizes.inputSize,
    outputSize: cellSizes.hiddenSize,
    stateNames,
    stateSizes: [cellSizes.hiddenSize],
    directions: 1,
    timeAxis,
    init: (key, options = {}) => initParams(key, shapes, initializer, options.dtype),
    run,
  })
}

// ---- both directions ----

const REVERSE = '_reverse'

/**
 * Runs `layer` forwards and, with its own parameters (named with PyTorch's `_reverse` suffix),
 * backwards; outputs are concatenated on the feature axis `[forward, backward]` and the state
 * slices follow PyTorch's order (forward slices, then backward). With a mask, the backward pass of
 * each sequence starts at its own last real step.
 * @example
 * ```ts
 * const layer = nn.bidirectional<nn.HiddenState>(nn.recurrent(nn.cellSpecs.gru, { inputSize: 3, hiddenSize: 4 }))
 * const params = layer.init(randomKey(0)) // weight_ih, …, then weight_ih_reverse, …
 * const xs = normal(randomKey(1), [2, 5, 3])
 * const { outputs, state } = layer.apply(params, xs, { lengths: [5, 3] })
 * console.log(outputs.shape, state.h.shape) // [2, 5, 8] [2, 2, 4]: [forward, backward] features; forward, then backward state
 * ```
 * @category model
 */
export const bidirectional = <S = RecurrentState>(layer: RecurrentCore, options: { readonly name?: string } = {}): RecurrentLayer<S> => {
  if (layer.directions !== 1) throw new ValueError(`nn.bidirectional: ${layer.name} already runs in both directions.`)
  const name = options.name ?? `nn.bidirectional(${layer.name})`
  const slices = layer.stateSizes.length
  const halves = (s: StateSlices | null): [StateSlices | null, StateSlices | null] =>
    s === null ? [null, null] : [mapSlices(s, (l) => l.slice(0, slices)), mapSlices(s, (l) => l.slice(slices))]
  return recurrentLayer({
    name,
    inputSize: layer.inputSize,
    outputSize: 2 * layer.outputSize,
    stateNames: layer.stateNames,
    stateSizes: [...layer.stateSizes, ...layer.stateSizes],
    directions: 2,
    timeAxis: layer.timeAxis,
    init: (key, options) => {
      const [forwardKey, backwardKey] = splitKey(key)
      const backward = layer.init(backwardKey, options)
      return { ...layer.init(forwardKey, options), ...Object.fromEntries(Object.entries(backward).map(([k, v]) => [k + REVERSE, v])) }
    },
    run: (params, xs, context) => {
      if (context.reverse) throw new ValueError(`${name}: reverse makes no sense for a layer that already runs both ways.`)
      const forwardParams: Record<string, Tensor> = {}
      const backwardParams: Record<string, Tensor> = {}
      for (const [k, v] of Object.entries(params)) {
        if (k.endsWith(REVERSE)) backwardParams[k.slice(0, -REVERSE.length)] = v
        else forwardParams[k] = v
      }
      const [initialForward, initialBackward] = halves(context.initial)
      const [forwardKey, backwardKey] = context.key === null ? [null, null] : splitKey(context.key)
      const f = layer.run(forwardParams, xs, { ...context, initial: initialForward, key: forwardKey })
      const b = layer.run(backwardParams, xs, {
        ...context, initial: initialBackward, key: backwardKey, reverse: true, outputs: 'all', paramName: (n) => context.paramName(n + REVERSE),
      })
      // The backward direction's output at the last time step is its first processed one, not its final state.
      const time = xs.shape[context.timeAxis]
      const bLast = (): Tensor => reshape(slice(b.ys, context.timeAxis === 0 ? [[time - 1, time]] : [[0, b.ys.shape[0]], [time - 1, time]]), f.ys.shape)
      return {
        ys: concat([f.ys, context.outputs === 'last' ? bLast() : b.ys], -1),
        final: Object.fromEntries(layer.stateNames.map((n) => [n, [...f.final[n], ...b.final[n]]])),
      }
    },
  })
}

const mapSlices = (s: StateSlices, f: (l: readonly Tensor[]) => readonly Tensor[]): StateSlices =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, f(v)]))

// ---- stacks ----

/**
 * PyTorch's naming of layer k's parameter: `name_l{k}`, with `_reverse` kept last
 * (`weight_ih_l1_reverse`).
 * @example
 * ```ts
 * console.log(nn.layerParamName('wTime', 1), nn.layerParamName('weight_hh_reverse', 0)) // wTime_l1 weight_hh_l0_reverse
 * const params = nn.gru({ inputSize: 2, hiddenSize: 3, bidirectional: true }).init(randomKey(0))
 * console.log(Object.keys(params).includes(nn.layerParamName('weight_hh_reverse', 0))) // true
 * ```
 * @category model
 */
export const layerParamName = (name: string, k: number): string =>
  name.endsWith(REVERSE) ? `${name.slice(0, -REVERSE.length)}_l${k}${REVERSE}` : `${name}_l${k}`

/** The inverse of `layerParamName`, or null for a name without a layer suffix. */
const parseLayerParamName = (key: string): { name: string; layer: number } | null => {
  const reversed = key.endsWith(REVERSE)
  const base = reversed ? key.slice(0, -REVERSE.length) : key
  const match = /^(.*)_l(\d+)$/.exec(base)
  return match === null ? null : { name: match[1] + (reversed ? REVERSE : ''), layer: Number(match[2]) }
}

/** Options of `stacked`. */
export interface StackedOptions {
  /** The public name in error messages (default from the layers' names). */
  readonly name?: string
  /** Dropout rate on the outputs of every layer but the last, applied when `apply` gets a `key`. */
  readonly dropout?: number
}

/**
 * Stacks recurrent layers: layer k+1 reads layer k's outputs. Parameters are renamed the PyTorch
 * way (`wTime` of layer 1 is `wTime_l1`, `weight_hh` of layer 0's backward direction is
 * `weight_hh_l0_reverse`), so PyTorch state dicts load by name. Layers may differ in size,
 * activation and cell, but must share state names. The state stacks every layer's slices in
 * order (`[layers × directions, batch, hidden]`); see `RecurrentState` for mixed hidden sizes.
 * @example
 * ```ts
 * const layer = nn.stacked([
 *   nn.elman({ inputSize: 1, hiddenSize: 8, activation: 'tanh' }),
 *   nn.elman({ inputSize: 8, hiddenSize: 4, activation: 'relu' }),
 * ], { dropout: 0.1 })
 * const params = layer.init(randomKey(0))
 * console.log(Object.keys(params)) // ['wLayer_l0', 'bLayer_l0', 'wTime_l0', 'bTime_l0', 'wLayer_l1', 'bLayer_l1', 'wTime_l1', 'bTime_l1']
 * const xs = normal(randomKey(1), [3, 6, 1])
 * const { outputs, state } = layer.apply(params, xs, { key: randomKey(2) }) // a key turns the dropout between the layers on
 * console.log(outputs.shape, (state.h as readonly Tensor[]).map((h) => h.shape)) // [3, 6, 4] [[3, 8], [3, 4]]: one per layer, as their sizes differ
 * ```
 * @category model
 */
export const stacked = <S = RecurrentState>(layers: readonly RecurrentCore[], options: StackedOptions = {}): RecurrentLayer<S> => {
  if (layers.length === 0) throw new ValueError('nn.stacked: needs at least one layer.')
  const rate = options.dropout ?? 0
  if (!(rate >= 0 && rate < 1)) throw new ValueError(`nn.stacked: dropout must be in [0, 1), got ${rate}.`)
  layers.forEach((l, k) => {
    if (k > 0 && l.inputSize !== layers[k - 1].outputSize) {
      throw new ShapeError(
        `nn.stacked: layer ${k} (${l.name}) expects ${l.inputSize} input features, but layer ${k - 1} (${layers[k - 1].name}) ` +
          `outputs ${layers[k - 1].outputSize} (hidden × directions). Build layer ${k} with inputSize: ${layers[k - 1].outputSize}.`,
      )
    }
    if (l.stateNames.join() !== layers[0].stateNames.join()) {
      throw new ValueError(
        `nn.stacked: every layer must have the same state entries; layer 0 has { ${layers[0].stateNames.join(', ')} }, ` +
          `layer ${k} has { ${l.stateNames.join(', ')} }.`,
      )
    }
  })
  const name = options.name ?? (layers.length === 1 ? layers[0].name : `nn.stacked(${layers.map((l) => l.name).join(', ')})`)
  const offsets = layers.map((_, k) => layers.slice(0, k).reduce((n, l) => n + l.stateSizes.length, 0))
  return recurrentLayer({
    name,
    inputSize: layers[0].inputSize,
    outputSize: layers[layers.length - 1].outputSize,
    stateNames: layers[0].stateNames,
    stateSizes: layers.flatMap((l) => l.stateSizes),
    directions: layers.some((l) => l.directions === 2) ? 2 : 1,
    timeAxis: layers[0].timeAxis,
    init: (key, initOptions) => {
      const keys = splitKey(key, layers.length)
      return Object.fromEntries(
        layers.flatMap((l, k) => Object.entries(l.init(keys[k], initOptions)).map(([n, v]) => [layerParamName(n, k), v])),
      )
    },
    run: (params, xs, context) => {
      const perLayer: Record<string, Tensor>[] = layers.map(() => ({}))
      for (const [key, value] of Object.entries(params)) {
        const parsed = parseLayerParamName(key)
        if (parsed === null || parsed.layer >= layers.length) {
          throw new TreeError(`${name}: unexpected parameter ${context.paramName(key)}; a stack of ${layers.length} layer(s) names its parameters <name>_l<k>[_reverse].`)
        }
        perLayer[parsed.layer][parsed.name] = value
      }
      const keys = context.key === null ? null : splitKey(context.key, 2 * layers.length)
      let inputs = xs
      const finals: StateSlices[] = []
      layers.forEach((layer, k) => {
        const size = layer.stateSizes.length
        const initial = context.initial === null ? null : mapSlices(context.initial, (l) => l.slice(offsets[k], offsets[k] + size))
        const top = k === layers.length - 1
        const result = layer.run(perLayer[k], inputs, {
          ...context, initial, key: keys === null ? null : keys[2 * k], outputs: top ? context.outputs : 'all',
          paramName: (n) => context.paramName(layerParamName(n, k)),
        })
        finals.push(result.final)
        const between = !top && rate > 0 && keys !== null
        inputs = between ? dropout(keys![2 * k + 1], result.ys, rate) : result.ys
      })
      return {
        ys: inputs,
        final: Object.fromEntries(layers[0].stateNames.map((n) => [n, finals.flatMap((f) => f[n])])),
      }
    },
  })
}
