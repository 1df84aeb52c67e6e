import type {Api} from '../api/client.js'
import {Refused} from '../errors.js'
import {printable} from '../names.js'
import type {Action, ActionKind, Actions} from './actions.js'
import type {RunRecord, StepRecord} from './log.js'
import type {Interpreter, Planned} from './plan.js'

// A run log is a file anyone with the data folder can edit (a synced or restored home, a slip in an
// editor). Before carrying out what it names, check that this command could have recorded it, for this
// run's app, and that the state it would change is the run's own; what it says about itself proves nothing.

// The kinds of put-back and wait each command records.
const RECORDED_BY: Record<string, ActionKind[]> = {
  'safe-rollback': ['maintenance', 'reapply-migrations', 'await-release'],
  'db:recover': ['maintenance', 'scale', 'destroy-addon', 'await-transfer', 'app-maintenance', 'app-scale'],
  'migrate:down': ['maintenance', 'reapply-migrations'],
  'files:recover': ['files-revert'],
  'files:protect': ['files-lifecycle'],
}

// The actions of these step records, each checked; refused, before anything is written, naming each reason.
export async function trustedActions(actions: Actions, api: Api, record: RunRecord, items: StepRecord[]): Promise<Action[]> {
  const named = items.map(s => s.running?.settle ?? s.undo?.action).filter((a): a is Action => a !== undefined)
  const allowed = RECORDED_BY[record.command] ?? []
  const reasons = await Promise.all(named.map(async (action): Promise<string | undefined> => {
    const kind = (action as {kind?: unknown}).kind
    if (!actions.isKnown(kind)) return `${printable(String(kind))} is not an action this plugin knows`
    if (!allowed.includes(kind)) return `${record.command} never records ${kind}`
    const reason = await actions.distrust(api, action, {app: record.app, startedAt: record.startedAt})
    return reason && `${kind}: ${printable(reason)}`
  }))
  const refused = reasons.filter(Boolean)
  if (refused.length > 0) {
    throw new Refused(`Run ${record.id}'s log asks for what the run cannot have done (${refused.join('; ')}): nothing was changed. The log may have been edited; check ${record.file}.`)
  }
  return named
}

// The plan of a run to go on with (recovery:resume --continue): every step recorded as data, of a kind
// this plugin knows, and about the run's own app wherever its data names an app, or about another app
// of a kind that may name one and that the kind still trusts (an app that shares the run's database).
export async function trustedPlan(interpreter: Interpreter, api: Api, record: RunRecord): Promise<Planned[]> {
  const origin = {app: record.app, startedAt: record.startedAt}
  const reasons = await Promise.all(record.steps.map(async (step): Promise<string | undefined> => {
    const data = step.data
    if (!data) return `${printable(step.id)} was not recorded as plan data (a run of an older version, or of a command whose steps are not data)`
    if (!interpreter.isKnown((data as {kind?: unknown}).kind)) return `${printable(String((data as {kind?: unknown}).kind))} is not a step this plugin knows`
    if (data.id !== step.id) return `step ${printable(step.id)} holds the data of ${printable(String(data.id))}`
    const app = (data as {app?: unknown}).app
    if (app === undefined || app === record.app) return undefined
    const reason = await interpreter.distrustOtherApp(api, data, origin)
    return reason && `${printable(step.id)}: ${printable(reason)}`
  }))
  const refused = reasons.filter(Boolean)
  if (refused.length > 0) throw new Refused(`Run ${record.id} cannot be continued: ${refused.join('; ')}. Nothing was changed; \`heroku recovery:resume ${record.id}\` (without --continue) puts back what is due.`)
  return record.steps.map(step => step.data!)
}
