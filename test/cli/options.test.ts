/**
 * scangrad's command line: help texts with examples, one-line usage errors (commander's and the
 * io-ts validated option values), config files reporting every invalid field with its path.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, lines, tempDir } from './helpers.js'

const dir = tempDir()

describe('scangrad --help', () => {
  it.each(['train', 'evaluate', 'predict', 'generate'])('%s --help shows an example and exits 0', async (command) => {
    const { code, stdout } = await cli([command, '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain(`$ scangrad ${command}`)
  })

  it('train --help lists every task with its defaults', async () => {
    const { stdout } = await cli(['train', '--help'])
    for (const task of ['mnist', 'oscillator', 'weather', 'names', 'csv']) expect(stdout).toMatch(new RegExp(`^  ${task}: `, 'm'))
    expect(stdout).toContain('--train-size 7500')
  })
})

describe('usage errors: non-zero exit, one line, no stack', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown option (with a suggestion)', ['train', '--epoch', '3'], /unknown option '--epoch'.*--epochs/],
    ['unknown task', ['train', '--task', 'mnits'], /--task.*mnits.*Allowed choices/],
    ['non-numeric value', ['train', '--epochs', 'ten'], /--epochs: expected a positive integer, got "ten"/],
    ['several bad values at once', ['train', '--epochs', '0', '--cell', 'rnn', '--learning-rate', '-1'],
      /--epochs: .*got 0; --learning-rate: .*got -1; --cell: expected one of "elman", "lstm", "gru", "mingru", "minlstm", "lru", got "rnn"/],
    ['a flag of another task', ['train', '--task', 'oscillator', '--file', 'x.csv'], /--file does not apply to --task oscillator \(it is for weather, csv\)/],
    ['a missing required flag', ['train', '--task', 'weather'], /--task weather needs --file/],
    ['a malformed window', ['train', '--task', 'csv', '--file', 'x.csv', '--input', 'a', '--target', 'b', '--train-window', '10-20'], /--train-window: expected a window .* got "10-20"/],
    ['sizes that do not fit', ['train', '--train-size', '7900', '--validation-size', '500'], /exceed the 8000 digits/],
    ['--resume with a task setting', ['train', '--resume', 'runs/x', '--hidden', '4'], /--resume continues a run with its saved config; --hidden cannot be changed/],
    ['a missing required option', ['evaluate'], /required option '--from <dir>'/],
    ['generate with a negative temperature', ['generate', '--from', 'runs/x', '--temperature', '-1'], /--temperature: expected a non-negative number, got -1/],
  ]
  it.each(cases)('%s', async (_, argv, message) => {
    const { code, stdout, stderr } = await cli(argv)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(lines(stderr)).toHaveLength(1)
    expect(stderr).toMatch(message)
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/)
  })
})

describe('config files', () => {
  it('reports every invalid field with its path, one per line', async () => {
    const file = join(dir, 'bad.json')
    writeFileSync(file, JSON.stringify({ task: 'mnist', epochs: -1, hidden: 'big', cell: 'rnn', learningrate: 0.1, lambda: 1e-3 }))
    const { code, stderr } = await cli(['train', '--config', file])
    expect(code).toBe(2)
    const reported = lines(stderr)
    expect(reported).toHaveLength(4)
    expect(stderr).toContain(`${file}: /epochs: expected a positive integer, got -1`)
    expect(stderr).toContain(`${file}: /hidden: expected a positive integer, got "big"`)
    expect(stderr).toContain(`${file}: /cell: expected one of "elman", "lstm", "gru", "mingru", "minlstm", "lru", got "rnn"`)
    expect(stderr).toContain(`${file}: /learningrate: unknown field`)
  })

  it('validates a config for the task it names, and rejects a conflicting --task', async () => {
    const file = join(dir, 'weather.json')
    writeFileSync(file, JSON.stringify({ task: 'weather', hidden: 0, trainWindow: [100, 10] }))
    const bad = await cli(['train', '--config', file])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('/hidden: expected a positive integer, got 0')
    expect(bad.stderr).toContain('/trainWindow: expected a window')
    const conflict = await cli(['train', '--config', file, '--task', 'oscillator'])
    expect(conflict.code).toBe(2)
    expect(conflict.stderr).toMatch(/unknown field|the file is for task "weather"/)
  })

  it('reports malformed JSON and a missing file in one line', async () => {
    const file = join(dir, 'broken.json')
    writeFileSync(file, '{"epochs": 3,')
    const broken = await cli(['train', '--config', file])
    expect([broken.code, lines(broken.stderr).length]).toEqual([2, 1])
    expect(broken.stderr).toContain('not valid JSON')
    const missing = await cli(['train', '--config', join(dir, 'nope.json')])
    expect([missing.code, lines(missing.stderr).length]).toEqual([2, 1])
    expect(missing.stderr).toContain('no such file')
  })
})
