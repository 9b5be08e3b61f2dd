/**
 * @file The active kernel backend. Primitives call kernels through `K`, an ES live binding, so
 * switching backends takes effect everywhere at once.
 */
import { jsKernels } from './jsKernels.js'
import type { Kernels } from './kernels.js'

export let K: Kernels = jsKernels

/** Selects the kernel backend used by every primitive from now on; returns the previous one. */
export const useKernels = (kernels: Kernels): Kernels => {
  const previous = K
  K = kernels
  return previous
}
