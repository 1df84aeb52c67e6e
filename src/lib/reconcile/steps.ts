import {join} from 'node:path'
import {printable} from '../names.js'
import type {BuildersOf} from '../runner/plan.js'
import type {ReplayResult} from './replay.js'
import {plural} from './words.js'

// `db:reconcile --apply` as a step kind: the folder's replay.sql on DATABASE in one transaction. Its data
// names the folder and DATABASE's config var; the URL is resolved when it runs (the command's own
// resolution, or read again by a process that continues the run). Applying twice changes nothing, so a
// lost COMMIT is settled by running the command again.

declare module '../runner/plan.js' {
  interface StepKinds {
    replay: {app: string, folder: string, database: string, label: string}
  }
}

export const reconcileSteps: BuildersOf<'replay'> = {
  replay: ({app, folder, database, label}) => ({
    title: `Run ${printable(join(folder, 'replay.sql'))} on ${label} in one transaction (inserts and guarded updates; conflicts and deletes stay commented out)`,
    async apply(context): Promise<ReplayResult> {
      const [{databaseIn, withInterruptibleConnection}, {applyReplay}] = await Promise.all([import('../postgres/connect.js'), import('./replay.js')])
      const target = await databaseIn(context, app, database)
      return withInterruptibleConnection(target, context.writeSignal, ({client}) => applyReplay(client, join(folder, 'replay.sql')))
    },
    done: (result: ReplayResult) => {
      const conflicts = Object.values(result.conflicts).reduce((a, b) => a + b, 0)
      return `${plural(result.statements, 'statement')}, ${plural(Object.values(result.changed).reduce((a, b) => a + b, 0), 'row')} changed${conflicts > 0 ? `, ${conflicts} set aside (${conflicts === 1 ? 'it conflicts' : 'they conflict'} with an existing row)` : ''}`
    },
  }),
}
