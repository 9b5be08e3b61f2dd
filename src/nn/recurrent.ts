/**
 * @file The recurrent machinery shared by every recurrent layer: a cell (one time step) becomes a
 * layer with `recurrent`, layers run both ways with `bidirectional`, and stack with `stacked`. All
 * three implement one time-major core (`run`); the public batch-first `apply` — input checks,
 * masks, initial and final states in PyTorch's layout — is written once, in `recurrentLayer`.
 * Imports ops, scan, random and tree.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { cast, where } from '../autodiff/ops/elementwise.js'
import { concat, expandDims, stack, transpose, unstack } from '../autodiff/ops/structural.js'
import { concrete } from '../autodiff/trace.js'
import { type Key, splitKey } from '../random/random.js'
import { type DType, Tensor, allocate } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import { scan } from '../transforms/scan.js'
import { treeMap } from '../tree/tree.js'
import { type InitOptions, type Initializer, type ParamShapes, type Params, checkParams, init as initializers, initParams } from './init.js'
import { type SequenceMask, timeMajorMask } from './masks.js'
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
 * at once (`[time, batch, inputSize]` → `[time, ...]`, typically one big matmul), and `step`
 * consumes one projected step. `cell(p, c, x)` must equal `step(c, project([x], continued = 1)[0])`.
 */
export interface BoundCell<C extends Carry = Carry> {
  readonly project: (xs: Tensor, steps: StepInfo) => Tensor
  readonly step: (carry: C, projected: Tensor) => readonly [C, Tensor]
  /**
   * Optional: every step of an unmasked run at once (projection included), from the initial carry
   * in a given dtype; returns the final carry and the outputs `[time, batch, outputSize]` (see
   * `SequenceRun`), or null when these operands need the per-step path. Must equal the scan of
   * `step` over `project`.
   */
  readonly sequence?: (xs: Tensor, steps: StepInfo, carry0: (dtype: DType) => C, reverse: boolean) => SequenceRun<C> | null
  /**
   * Optional: `sequence` in batch-major layout — xs `[batch, time, inputSize]`, `steps.continued`
   * `[batch, time, 1]`, outputs `[batch, time, outputSize]` — so a batch-first layer runs without
   * transposing its inputs and outputs. Must equal `sequence` up to that layout.
   */
  readonly batchMajorSequence?: (xs: Tensor, steps: StepInfo, carry0: (dtype: DType) => C, reverse: boolean) => SequenceRun<C> | null
  /**
   * Optional: an unmasked forward run in `batchMajorSequence`'s layout for its final carry and its
   * outputs at the last time step alone, when nothing reads the other steps' outputs (so they need
   * not be materialised); null when these operands need another path. Must equal the carry and the
   * last step of `batchMajorSequence`, gradients included.
   */
  readonly finalSequence?: (xs: Tensor, steps: StepInfo, carry0: (dtype: DType) => C) => readonly [carry: C, last: Tensor] | null
}

/**
 * A whole-sequence run's result: the final carry, the outputs, and optionally the outputs at the
 * last time step (time − 1, `[batch, outputSize]`) as a node of their own, such as a sequence
 * kernel's final state. A last-step readout takes that instead of slicing the outputs, so its
 * gradient reaches the kernel as one step's cotangent rather than a sequence of zeros.
 */
export type SequenceRun<C extends Carry = Carry> = readonly [carry: C, ys: Tensor, last?: Tensor]

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

/** The bound form of any spec: its own `bind`, or its `cell` applied per raw step. */
export const bindCell = <C extends Carry>(spec: CellSpec<C>, params: Params): BoundCell<C> =>
  spec.bind?.(params) ?? { project: (xs) => xs, step: (carry, x) => spec.cell(params, carry, x) }

/** The plain cell of a bound form: projects one (continuing) step and runs it. */
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
}

/** What a recurrent layer's `apply` returns. */
export interface RecurrentOutput<S = RecurrentState> {
  /** `[batch, time, outputSize]`; 0 at padded steps. */
  readonly outputs: Tensor
  /** The state after each sequence's last real step, `[slices, batch, hidden]` per name. */
  readonly state: S
  /**
   * The outputs at the last time step, `[batch, outputSize]`, when the layer has them as a node of
   * their own (an unmasked run of a built-in Elman or RNN layer, forwards, one direction); equal to
   * `nn.lastStep(outputs)`, whose gradient is then one step's instead of a mostly-zero sequence.
   */
  readonly last?: Tensor
}

/** The time-major core's context. */
export interface RunContext {
  /** Per state name, one `[batch, hidden]` per slice, or null for zeros. */
  readonly initial: StateSlices | null
  /** `[time, batch, 1]` 0/1, or null when every step is real. */
  readonly mask: Tensor | null
  readonly key: Key | null
  readonly reverse: boolean
  /** The full name (with stacking suffixes) of one of this layer's parameters, for messages. */
  readonly paramName: (name: string) => string
}

/** The time-major core's result: outputs `[time, batch, outputSize]` and final state slices. */
export interface RunResult {
  readonly ys: Tensor
  readonly final: StateSlices
  /** Optional: ys at the last time step as a node of its own (see `SequenceRun`). */
  readonly last?: Tensor
}

/** A run for its final state and its outputs at the last time step alone (see `RecurrentCore.runFinal`). */
export interface FinalRun {
  readonly final: StateSlices
  readonly last: Tensor
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
  /** The time-major core: `xs` is `[time, batch, inputSize]`. */
  run(params: Params, xs: Tensor, context: RunContext): RunResult
  /**
   * Optional: the same run on batch-major `xs` `[batch, time, inputSize]`, with `ys`
   * `[batch, time, outputSize]`: a core that can skip the transposes around `run` (see
   * `BoundCell.batchMajorSequence`) offers it, and the layer then calls it instead of `run`.
   */
  runBatchMajor?(params: Params, xs: Tensor, context: RunContext): RunResult
  /**
   * Optional: `runBatchMajor`'s final state and outputs at the last time step alone, when nothing
   * reads the other steps' outputs; null when the run needs the full path (see
   * `BoundCell.finalSequence`).
   */
  runFinal?(params: Params, xs: Tensor, context: RunContext): FinalRun | null
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
  /**
   * Optional: `apply` for the outputs at the last time step, `[batch, outputSize]`, and the final
   * state alone, equal to `nn.lastStep(outputs)` and `state`, gradients included, but without
   * materialising the other steps' outputs. Null when the run needs `apply` (masks, reversed runs,
   * operands the fast path does not take). Built-in Elman layers offer it, and `nn.sequenceModel`'s
   * last-step readout takes it.
   */
  applyFinal?(params: Params, xs: Tensor, options?: RecurrentOptions<S>): { readonly last: Tensor; readonly state: S } | null
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
 * @category model
 */
export const recurrentLayer = <S = RecurrentState>(core: RecurrentCore): RecurrentLayer<S> => {
  /** The checked inputs and the run's context. */
  const prepare = (xs: unknown, options: RecurrentOptions<S>): { inputs: Tensor; context: RunContext } => {
    const inputs = checkInputs(core, xs)
    const [batch, time] = inputs.shape
    const mask = timeMajorMask(core.name, options, batch, time, inputs.dtype)
    const initial = options.initialState === undefined ? null : unpackState(core, options.initialState, batch)
    return { inputs, context: { initial, mask, key: options.key ?? null, reverse: options.reverse ?? false, paramName: (n) => n } }
  }
  const { runFinal } = core
  return {
    ...core,
    kind: 'scangrad.recurrentLayer',
    ...(runFinal === undefined ? {} : {
      applyFinal: (params: Params, xs: Tensor, options: RecurrentOptions<S> = {}) => {
        const { inputs, context } = prepare(xs, options)
        const run = runFinal(params, inputs, context)
        return run === null ? null : { last: run.last, state: packState(core, run.final) as S }
      },
    }),
    apply: (params, xs, options = {}) => {
      const { inputs, context } = prepare(xs, options)
      if (core.runBatchMajor !== undefined) {
        const { ys, final, last } = core.runBatchMajor(params, inputs, context)
        return { outputs: ys, state: packState(core, final) as S, ...(last === undefined ? {} : { last }) }
      }
      const { ys, final, last } = core.run(params, transpose(inputs, [1, 0, 2]), context)
      return { outputs: transpose(ys, [1, 0, 2]), state: packState(core, final) as S, ...(last === undefined ? {} : { last }) }
    },
  }
}

// ---- one cell over time ----

/** The sizes (and optionally the initialiser) of one `recurrent` layer. */
export interface RecurrentSizes extends CellSizes {
  /** How parameters are drawn: an initialiser (see `nn.init`); default the spec's own, else 'seed'. */
  readonly init?: Initializer
}

const checkSize = (who: string, what: string, n: unknown): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ValueError(`${who}: ${what} must be a positive integer, got ${String(n)}.`)
  return n
}

const defaultCarry = (names: readonly string[]) => (state: Carry | null, batch: number, sizes: CellSizes, dtype: DType): Carry =>
  Object.fromEntries(names.map((n) => [n, state?.[n] ?? full([batch, sizes.hiddenSize], 0, { dtype })]))

/** Padded steps keep the carry and output 0: `carry_t = m_t ? new : old`, `y_t = m_t ? y : 0`. */
const maskedStep = <C extends Carry>(step: BoundCell<C>['step']) =>
  (carry: C, { x, m }: { x: Tensor; m: Tensor }): readonly [C, Tensor] => {
    const [next, y] = step(carry, x)
    // An entry the step passed through unchanged needs no selection.
    return [treeMap((n: Tensor, o: Tensor) => (n === o ? n : where(m, n, o)), next, carry) as unknown as C, where(m, y, 0)]
  }

/**
 * `StepInfo.continued` for a run: 1 everywhere with a given initial state; otherwise 0 up to and
 * including each sequence's first real step in processing order, 1 after it. Time-major
 * `[time, batch, 1]` (the mask's layout), or `[batch, time, 1]` for a batch-major run.
 */
const continuedSteps = (
  time: number, batch: number, mask: Tensor | null, reverse: boolean, given: boolean, dtype: DType, batchMajor = false,
): Tensor => {
  const data = allocate(dtype, time * batch)
  const shape = batchMajor ? [batch, time, 1] : [time, batch, 1]
  if (given) return new Tensor(data.fill(1), shape)
  const real = mask === null ? null : concrete(mask).data
  for (let b = 0; b < batch; b++) {
    let seen = false
    for (let i = 0; i < time; i++) {
      const t = reverse ? time - 1 - i : i
      data[batchMajor ? b * time + t : t * batch + b] = seen ? 1 : 0
      if (real === null || real[t * batch + b] !== 0) seen = true
    }
  }
  return new Tensor(data, shape)
}

/** A whole-sequence run as the layer's result. */
const wholeResult = <C extends Carry>([carry, ys, last]: SequenceRun<C>, finalOf: (carry: C) => StateSlices): RunResult =>
  ({ ys, final: finalOf(carry), ...(last === undefined ? {} : { last }) })

/** What a run of one cell needs besides its inputs. */
interface Prepared<C extends Carry> {
  readonly bound: BoundCell<C>
  readonly carryIn: (dtype: DType) => C
  readonly finalOf: (carry: C) => StateSlices
}

/**
 * Runs a cell over the time axis with `scan`: one direction, one layer. Its parameters are the
 * cell's, unsuffixed; its state has one slice. Padded steps (mask 0) keep the carry and output 0,
 * so each sequence's final state is its state after its own last real step, and a reversed run
 * starts each sequence at its own last real step.
 * @example
 * const mgu = nn.recurrent({ name: 'mgu', params: ({ inputSize: i, hiddenSize: h }) => ({ w: [i + h, h], b: [h] }), cell },
 *                          { inputSize: 2, hiddenSize: 8 })
 * const { outputs, state } = mgu.apply(mgu.init(randomKey(0)), xs)
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
  /** The time-major run of a prepared cell: the whole-sequence path, else `scan` over the steps. */
  const runBound = ({ bound, carryIn, finalOf }: Prepared<C>, xs: Tensor, context: RunContext): RunResult => {
    const [time, batch] = xs.shape
    const steps = { continued: continuedSteps(time, batch, context.mask, context.reverse, context.initial !== null, xs.dtype) }
    const whole = context.mask === null ? bound.sequence?.(xs, steps, carryIn, context.reverse) ?? null : null
    if (whole !== null) return wholeResult(whole, finalOf)
    const projected = bound.project(xs, steps)
    const carry0 = carryIn(projected.dtype)
    const [carry, ys] = context.mask === null
      ? scan(bound.step, carry0, projected, { reverse: context.reverse })
      : scan(maskedStep(bound.step), carry0, { x: projected, m: context.mask }, { reverse: context.reverse })
    return { ys, final: finalOf(carry) }
  }
  return recurrentLayer({
    name,
    inputSize: cellSizes.inputSize,
    outputSize: cellSizes.hiddenSize,
    stateNames,
    stateSizes: [cellSizes.hiddenSize],
    directions: 1,
    init: (key, options = {}) => initParams(key, shapes, initializer, options.dtype),
    run: (params, xs, context) => runBound(prepare(params, context, xs.shape[1]), xs, context),
    runBatchMajor: (params, xs, context) => {
      const [batch, time] = xs.shape
      const prepared = prepare(params, context, batch)
      const { bound, carryIn, finalOf } = prepared
      if (context.mask === null && bound.batchMajorSequence !== undefined) {
        const continued = continuedSteps(time, batch, null, context.reverse, context.initial !== null, xs.dtype, true)
        const whole = bound.batchMajorSequence(xs, { continued }, carryIn, context.reverse)
        if (whole !== null) return wholeResult(whole, finalOf)
      }
      const { ys, final } = runBound(prepared, transpose(xs, [1, 0, 2]), context)
      return { ys: transpose(ys, [1, 0, 2]), final }
    },
    runFinal: (params, xs, context) => {
      if (context.mask !== null || context.reverse) return null
      const [batch, time] = xs.shape
      const { bound, carryIn, finalOf } = prepare(params, context, batch)
      if (bound.finalSequence === undefined) return null
      const continued = continuedSteps(time, batch, null, false, context.initial !== null, xs.dtype, true)
      const run = bound.finalSequence(xs, { continued }, carryIn)
      return run === null ? null : { final: finalOf(run[0]), last: run[1] }
    },
  })
}

// ---- both directions ----

const REVERSE = '_reverse'

/**
 * Runs `layer` forwards and, with its own parameters (named with PyTorch's `_reverse` suffix),
 * backwards; outputs are concatenated on the feature axis `[forward, backward]` and the state
 * slices follow PyTorch's order (forward slices, then backward). With a mask, the backward pass of
 * each sequence starts at its own last real step.
 * @example nn.bidirectional(nn.recurrent(nn.cellSpecs.gru, { inputSize: 3, hiddenSize: 4 }))
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
        ...context, initial: initialBackward, key: backwardKey, reverse: true, paramName: (n) => context.paramName(n + REVERSE),
      })
      return {
        ys: concat([f.ys, b.ys], -1),
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
 * @example nn.stacked([nn.elman({ inputSize: 1, hiddenSize: 8, activation: 'tanh' }),
 *                      nn.elman({ inputSize: 8, hiddenSize: 4, activation: 'relu' })])
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
      let last: Tensor | undefined
      const finals: StateSlices[] = []
      layers.forEach((layer, k) => {
        const size = layer.stateSizes.length
        const initial = context.initial === null ? null : mapSlices(context.initial, (l) => l.slice(offsets[k], offsets[k] + size))
        const result = layer.run(perLayer[k], inputs, {
          ...context, initial, key: keys === null ? null : keys[2 * k], paramName: (n) => context.paramName(layerParamName(n, k)),
        })
        finals.push(result.final)
        const between = k < layers.length - 1 && rate > 0 && keys !== null
        inputs = between ? dropout(keys![2 * k + 1], result.ys, rate) : result.ys
        last = result.last
      })
      return {
        ys: inputs,
        final: Object.fromEntries(layers[0].stateNames.map((n) => [n, finals.flatMap((f) => f[n])])),
        ...(last === undefined ? {} : { last }),
      }
    },
  })
}
