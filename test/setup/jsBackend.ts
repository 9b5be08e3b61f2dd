/**
 * @file Setup file of the `js` test project (vitest.config.ts): selects the JavaScript reference
 * kernels before each test file runs. The default backend is the WebAssembly one, so without this
 * file the reference run would silently be a second WebAssembly run. test/backend.test.ts checks
 * that this file took effect.
 */
import { jsKernels, useKernels } from '../../src/index.js'

useKernels(jsKernels)
