import type {RunOutcome} from '../runner/runner.js'
import {type EstateEntry, type EstatePlan, type Fate, isPooler, moveCommand, reattachId} from './plan.js'
import type {EstateRead, Moved} from './steps.js'

// The estate as people and scripts read it: every app on the database in the plan, and after the run
// what moved, what still reaches the old database, and the commands that move each back.

const FATE: Record<Fate, string> = {
  promoted: 'takes the new database (the promote)',
  'kept alias': 'stays on the old database (the kept alias, for db:reconcile)',
  'pooler re-attached': 'the pooler moves to the new database',
  moves: 'moves to the new database',
  stays: 'stays',
  'left: credential': 'stays on the old database (a credential the new one lacks)',
}

const entryLine = (e: EstateEntry) => `${e.name}${isPooler(e) ? ' (pooler)' : e.namespace ? ` (${e.namespace})` : ''}: ${FATE[e.fate]}`

export function estateSection(plan: EstatePlan): string[] {
  if (plan.apps.length < 2 && plan.apps.every(a => a.attachments.every(e => e.fate === 'stays' || e.fate === 'promoted'))) return []
  return [
    '',
    `Apps on ${plan.database}:`,
    ...plan.apps.flatMap(a => {
      const quiet = [
        a.maintenance === 'on' ? 'maintenance on during the switch' : a.maintenance === 'already on' ? 'already in maintenance, left on' : 'no maintenance mode',
        ...(a.workers.length > 0 ? [`${a.workers.map(w => `${w.type}=${w.quantity}`).join(', ')} scaled to 0, then back`] : []),
        ...(a.writing.length > 0 ? [`${a.writing.join(', ')} keep writing`] : []),
      ]
      return [`  ${a.app}${a.recovering ? ' (this app)' : ''}: ${plan.quiet ? quiet.join('; ') : 'not touched (a drill)'}`, ...a.attachments.map(e => `    - ${entryLine(e)}`)]
    }),
  ]
}

export interface EstateOutcome {
  // Every attachment moved to the new database, and the command that points it back at the old one.
  moved: (Moved & {back: string})[]
  // What was to move and did not (the run stopped first): still on the old database.
  notMoved: {app: string, name: string, namespace: string | null}[]
  // What was read back on the old database at the end; null when the read-back did not run.
  stillOnOld: {app: string, name: string}[] | null
}

export function estateOutcome(plan: EstatePlan, outcome: RunOutcome): EstateOutcome {
  const moved = plan.apps.flatMap(a => a.attachments.filter(e => e.fate === 'moves'))
    .map(e => outcome.result<Moved>(reattachId(e)))
    .filter((m): m is Moved => m !== undefined && outcome.steps.find(s => s.id === reattachId(m))?.state === 'done')
    .map(m => ({...m, back: moveCommand(m, plan.database)}))
  const read = outcome.result<EstateRead>('estate-check')
  const notMoved = plan.apps.flatMap(a => a.attachments.filter(e => e.fate === 'moves'))
    .filter(e => !moved.some(m => m.app === e.app && m.name === e.name)).map(({app, name, namespace}) => ({app, name, namespace}))
  return {moved, notMoved, stillOnOld: read ? read.remaining.map(({app, name}) => ({app, name})) : null}
}

// The closing words of a recovery that moved the estate.
export function estateClosing(plan: EstatePlan, outcome: RunOutcome): string[] {
  const {moved, stillOnOld} = estateOutcome(plan, outcome)
  const quieted = plan.apps.filter(a => !a.recovering && (a.maintenance === 'on' || a.workers.length > 0))
  return [
    ...(moved.length > 0 ? [`Moved to the new database: ${moved.map(m => `${m.app} ${m.name}`).join(', ')}.`] : []),
    ...(stillOnOld ? [`Read back: ${stillOnOld.length === 0 ? `no attachment reaches ${plan.database} any more.` : `only ${stillOnOld.map(a => `${a.app} ${a.name}`).join(', ')} still ${stillOnOld.length === 1 ? 'reaches' : 'reach'} ${plan.database}; nothing else reaches it.`}`] : []),
    ...(quieted.length > 0 ? [`Also quieted and put back: ${quieted.map(a => a.app).join(', ')}.`] : []),
  ]
}

// A run that stopped after the promote: the apps are split between the two databases. Which attachment is
// where, and the commands that finish the move (or take it back, which the run's undo lists).
export function estateUnfinished(plan: EstatePlan, outcome: RunOutcome, created: string | undefined, promoted: boolean): string[] {
  if (!promoted || !created) return []
  const {moved, notMoved} = estateOutcome(plan, outcome)
  if (notMoved.length === 0) return []
  const recovering = plan.apps.find(a => a.recovering)!
  const promotedAs = recovering.attachments.find(e => e.fate === 'promoted')?.name ?? 'DATABASE'
  const list = (items: {app: string, name: string}[]) => items.map(i => `${i.app} ${i.name}`).join(', ')
  return [
    `The apps are split: ${created} (the recovered database) serves ${list([{app: recovering.app, name: promotedAs}, ...moved])}; ${plan.database} (the old one) still serves ${list(notMoved)}.`,
    'To finish moving them to the recovered database:',
    ...notMoved.map(e => `  ${moveCommand(e, created)}`),
  ]
}

export const moveBackCommands = (plan: EstatePlan, outcome: RunOutcome) => estateOutcome(plan, outcome).moved.map(m => m.back)
