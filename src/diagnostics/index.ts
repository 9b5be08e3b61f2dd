/**
 * @file The diagnostics namespace: the dynamics of scan-based models. Gradient flow through time
 * (`gradientFlow`), the Jacobians of a recurrence's steps and their singular values
 * (`stepJacobians`), its Lyapunov exponents (`lyapunovExponents`), and the recurrences a model runs
 * (`recurrences`), to feed the latter two from a built-in layer. Sits above transforms; imports
 * tensor, autodiff and transforms only, so nn and the CLI may use it.
 */
export { gradientFlow } from './gradientFlow.js'
export { stepJacobians } from './stepJacobians.js'
export type { TrajectoryOptions } from './stepJacobians.js'
export { lyapunovExponents } from './lyapunov.js'
export type { LyapunovOptions } from './lyapunov.js'
export { recurrences } from './recurrences.js'
export type { Recurrence } from './recurrences.js'
export { singularValues } from './svd.js'
