/**
 * @file Public values whose doc comments do not yet carry an `@example` that type-checks and runs
 * (issue 21 §5). test/docs/examples.test.ts shows them as todo and fails on a name that is no longer
 * exported; remove a name when its example is written. The list only shrinks.
 */
export const PENDING_EXAMPLES: readonly string[] = [
]
