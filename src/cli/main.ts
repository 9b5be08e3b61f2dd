#!/usr/bin/env node
/**
 * @file The `scangrad` executable: runs the command line of this process and exits with its code.
 * A bug (anything but a user error) is printed with its stack and exits 1.
 */
import { processIo, runCli } from './program.js'

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`scangrad: internal error (please report it): ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
