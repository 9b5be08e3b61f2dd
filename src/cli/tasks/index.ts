/**
 * @file The task registry: every `scangrad train --task` name and its module.
 */
import { registerTaskFields, type TaskName } from '../config.js'
import { csv } from './csv.js'
import { mnist } from './mnist.js'
import { names } from './names.js'
import { oscillator } from './oscillator.js'
import type { Task } from './types.js'
import { weather } from './weather.js'

/** Every task by name (`satisfies` keeps the registry exhaustive: a task missing here is a compile error). */
export const TASKS = { mnist, oscillator, weather, names, csv } as const satisfies Record<TaskName, Task>

for (const task of Object.values(TASKS)) registerTaskFields(task)

/** The task of a name. */
export const taskOf = (name: TaskName): Task => TASKS[name]

export type { Task, Experiment, Outcome, RunRecord, Answer } from './types.js'
