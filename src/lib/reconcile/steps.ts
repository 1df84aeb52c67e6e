import {join} from 'node:path'
import type {BackupState} from '../backups/gate.js'
import {captureFreshBackup} from '../backups/gate.js'
import {withInterruptibleConnection} from '../postgres/connect.js'
import type {Step} from '../runner/step.js'
import type {ReconcileDatabase} from './gather.js'
import {printable} from '../names.js'
import {plural} from './render.js'
import {applyReplay, ReplayResult} from './replay.js'

// `db:reconcile --apply` as steps of the runner: a fresh backup of DATABASE when the gate asks for one,
// then replay.sql in one transaction. Applying twice changes nothing, so a lost COMMIT is settled by
// running the command again.

export function replayStep(current: ReconcileDatabase, folder: string): Step<ReplayResult> {
  return {
    id: 'replay',
    title: `Run ${printable(join(folder, 'replay.sql'))} on ${current.label} in one transaction (inserts and guarded updates; conflicts and deletes stay commented out)`,
    apply: ({writeSignal}) => withInterruptibleConnection(current, writeSignal, ({client}) => applyReplay(client, join(folder, 'replay.sql'))),
    done: result => {
      const conflicts = Object.values(result.conflicts).reduce((a, b) => a + b, 0)
      return `${plural(result.statements, 'statement')}, ${plural(Object.values(result.changed).reduce((a, b) => a + b, 0), 'row')} changed${conflicts > 0 ? `, ${conflicts} set aside (${conflicts === 1 ? 'it conflicts' : 'they conflict'} with an existing row)` : ''}`
    },
  }
}

export const reconcileSteps = (current: ReconcileDatabase, folder: string, capture: BackupState[]): Step<any>[] =>
  [...capture.map(captureFreshBackup), replayStep(current, folder)]
