/**
 * @file The Model type: a model is data (a parameter tree) plus pure functions over it. Imports
 * types only.
 */
import type { Key } from '../random/random.js'
import type { InitOptions } from './init.js'

// init and apply are method signatures so that, e.g., a Model<LstmParams, ...> can be passed where
// a Model<unknown, ...> is expected (TypeScript checks methods bivariantly); no `this` is used.

/**
 * A model description: `init` draws parameters from an explicit key; `apply` is a pure function of
 * the parameters and the inputs. Nothing is stored between calls, so `grad(loss)(params, ...)`,
 * `treeMap` and checkpoints all work on the parameter tree directly.
 * @example
 * const layer = nn.linear({ inputSize: 3, outputSize: 2 })
 * const params = layer.init(randomKey(0))
 * const y = layer.apply(params, x) // [batch, 3] → [batch, 2]
 * @category model
 */
export interface Model<P, I, O, Options = undefined> {
  /** Draws fresh parameters; the same key always gives the same parameters. */
  init(key: Key, options?: InitOptions): P
  /** The model's function of its parameters and inputs. */
  apply(params: P, inputs: I, options?: Options): O
}
