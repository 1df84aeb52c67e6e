import type {Addon} from '../api/addons.js'
import {Transfer, transferName} from '../api/postgres.js'
import {formatDuration} from '../duration.js'
import {isPooler} from '../estate/plan.js'
import {estateClosing, estateOutcome, estateSection, estateUnfinished, moveBackCommands} from '../estate/render.js'
import type {View} from '../plan.js'
import {checksSection, stepList} from '../render/index.js'
import {runJson} from '../runner/report.js'
import type {RunOutcome} from '../runner/runner.js'
import type {Step} from '../runner/step.js'
import type {SequenceMove} from '../reconcile/sequences.js'
import type {PutBack} from '../reconcile/surgical.js'
import {shellQuote} from '../shell.js'
import {ADVANCED_POOLING, isAdvancedPlan} from './advanced.js'
import {type LeftBehind, leftBehindLines} from './leftovers.js'
import {CREATED, type RecoveryPlan, SAFETY, SCRATCH} from './plan.js'
import type {BaseRecorded} from './promote.js'
import {type Restored, restoreCommand} from './steps.js'
import {watched} from '../health/plan.js'
import {describeHealth, healthJson, healthWarnings} from '../health/render.js'

// The plan and the outcome as people read them. Nothing here prints secrets: plans and outcomes
// hold names, times and commands, never URLs or credentials.

function headline(plan: RecoveryPlan): string {
  const db = `${plan.database.attachment} (${plan.database.addon}, ${plan.database.plan}) on ${plan.app}`
  const what = plan.drill ? 'Drill: recovering a copy of' : plan.surgical ? `Surgical: putting back rows of ${plan.surgical.tables.join(', ')} missing from` : 'Recovering'
  if (plan.way === 'backup') {
    const backup = plan.backup ? `${plan.backup.name}, finished ${plan.backup.finishedAt} (${plan.backup.age} ago), ${plan.backup.size}` : 'a backup'
    return `${what} ${db} from backup ${backup}.`
  }
  return `${what} ${db} as of ${plan.target?.at}: ${plan.target?.reason}.`
}

export function describePlan(plan: RecoveryPlan, steps: Step<any>[]): string {
  return [
    headline(plan),
    ...estateSection(plan.estate),
    '',
    ...checksSection(plan.checks),
    '',
    'Steps:',
    ...stepList(steps),
    ...(plan.warnings.length > 0 ? ['', ...plan.warnings.map(w => `Warning: ${w}`)] : []),
  ].join('\n')
}

// A pooler of the app under another name moves with the estate, and is said there.
const ownPoolers = (plan: RecoveryPlan) => plan.estate.apps.some(a => a.recovering && a.attachments.some(isPooler))

function promoted(plan: RecoveryPlan, outcome: RunOutcome): string[] {
  const created = outcome.result<Addon>(CREATED.ref)!
  const alias = outcome.result<string>('keep-alias')
  const follower = outcome.result<boolean>('follower-check')
  const phase = outcome.result<string>('release-phase')
  const old = plan.database.addon
  return [
    `${plan.promoteAs}_URL now points to ${created.name}, the database as of ${plan.target?.at}; it has new credentials, and the app restarted with them.`,
    `${old} is still attached${alias ? ` as ${alias}_URL` : ''} and still billed: \`heroku addons:destroy ${old} --app ${plan.app}\` once you no longer need it.`,
    ...plan.hasPooler ? ['The connection pooler (DATABASE_CONNECTION_POOL) was re-attached to the new database.'] : isAdvancedPlan(plan.database.plan) ? [ADVANCED_POOLING] : ownPoolers(plan) ? [] : ['There was no connection-pooling attachment to move.'],
    `Followers of ${old} were not carried over: create new ones from ${created.name} if you need them.`,
    ...leftBehindLines(outcome.result<LeftBehind>('left-behind'), old),
    ...(follower ? [`${created.name} is a follower (read-only): \`heroku pg:unfollow ${created.name} --app ${plan.app}\` makes it writable.`] : []),
    ...(phase ? [`Release phase: ${phase}.`] : []),
    ...estateClosing(plan.estate, outcome),
  ]
}

const backupName = (outcome: RunOutcome, id: string) => {
  const transfer = outcome.result<Transfer>(id)
  return transfer && transferName(transfer)
}

const scratchLine = (plan: RecoveryPlan, scratch: Addon) => plan.keep
  ? `Scratch database ${scratch.name} is kept (--keep): \`heroku addons:destroy ${scratch.name} --app ${plan.app} --confirm ${plan.app}\` removes it.`
  : `Scratch database ${scratch.name} was destroyed.`

// What a successful recovery did, and the way back.
export function describeOutcome(plan: RecoveryPlan, outcome: RunOutcome): string {
  const durationMs = outcome.durationMs
  const lines: string[] = []
  const safety = backupName(outcome, SAFETY.ref)
  if (plan.surgical) {
    const scratch = outcome.result<Addon>(SCRATCH.ref)!
    const put = outcome.result<PutBack>('put-back')!
    const total = Object.values(put.changed).reduce((a, b) => a + b, 0)
    lines.push(`Put back ${total} row${total === 1 ? '' : 's'} in ${formatDuration(durationMs)}, in one transaction; nothing else in ${plan.database.attachment} was touched.`,
      ...Object.entries(put.changed).map(([table, n]) => `  - ${table}: ${n}`),
      `  - The rows put back are listed in ${put.folder} (personal data: keep the folder private).`,
      `  - ${scratchLine(plan, scratch)}`)
    if (safety) lines.push(`  - Safety backup ${safety} holds the data from before; \`${restoreCommand(plan.app, plan.database.attachment, safety)}\` goes back to it.`)
    return lines.join('\n')
  }
  if (plan.drill) {
    const scratch = outcome.result<Addon>(SCRATCH.ref)!
    lines.push(`Drill done in ${formatDuration(durationMs)}.`, `  - Recovered into scratch database ${scratch.name}. ${plan.database.attachment} (${plan.database.addon}) was not touched.`, `  - ${scratchLine(plan, scratch)}`)
  } else if (plan.way === 'backup') {
    lines.push(`Recovered in ${formatDuration(durationMs)}.`, `  - ${plan.database.attachment} (${plan.database.addon}) now holds the data of ${plan.backup?.name} (${plan.backup?.finishedAt}).`)
    if (safety) lines.push(`  - Safety backup ${safety} holds the data from before the restore.`)
    lines.push(...estateClosing(plan.estate, outcome).map(line => `  - ${line}`))
  } else {
    lines.push(`Recovered in ${formatDuration(durationMs)}.`, ...promoted(plan, outcome).map(line => `  - ${line}`))
    const backup = backupName(outcome, 'backup-new')
    if (backup) lines.push(`  - Backup ${backup} of the new database was captured.`)
  }
  const verified = outcome.result<string>('verify')
  if (verified) lines.push(`  - --verify passed: ${verified}.`)
  const touched = [
    ...(plan.maintenance ? ['maintenance mode (on, then off)'] : []),
    ...plan.workers.map(w => `${w.type} (scaled 0, then back to ${w.quantity})`),
  ]
  if (touched.length > 0) lines.push(`  - Touched during the switch: ${touched.join(', ')}.`)
  const reconcile = reconcileCommand(plan, outcome)
  if (reconcile) {
    const base = outcome.result<BaseRecorded>('record-base')
    const how = base?.recorded
      ? `it compares three-way, against the base recorded in ${base.database} before the promote, so writes the app makes to it from now on are kept`
      : 'with no base recorded, it compares two-way, and --apply needs --prefer old|current'
    lines.push('', `Writes made to ${plan.database.addon} after ${plan.target?.at} are not in the new database. Compare and carry them over with (${how}):`, `  ${reconcile}`)
  }
  const back = plan.drill ? [] : plan.way === 'backup' ? (safety ? [restoreCommand(plan.app, plan.database.attachment, safety)] : []) : [`heroku pg:promote ${plan.database.addon} --app ${plan.app}`, ...moveBackCommands(plan.estate, outcome)]
  if (back.length > 0) lines.push('', 'To go back:', ...back.map(u => `  ${u}`))
  return lines.join('\n')
}

// What --json says the recovery made: names only (never a URL).
export function recovered(outcome: RunOutcome) {
  const name = (id: string): string | undefined => {
    const made = outcome.result<Transfer | Addon | Restored>(id)
    if (!made) return undefined
    return 'transfer' in made ? transferName(made.transfer) : 'num' in made ? transferName(made) : made.name
  }
  const scratch = name(SCRATCH.ref)
  return {
    recovered: outcome.status === 'succeeded',
    database: name(CREATED.ref) ?? null,
    safetyBackup: name(SAFETY.ref) ?? null,
    restore: name('restore') ?? null,
    backupOfNewDatabase: name('backup-new') ?? null,
    scratch: scratch ? {addon: scratch, destroyed: outcome.steps.find(s => s.id === 'destroy-scratch')?.state === 'done' || outcome.steps.find(s => s.id === SCRATCH.ref)?.state === 'undone'} : null,
    verification: outcome.result<string>('verify') ?? null,
    sequenceFence: outcome.result<SequenceMove[]>('sequence-fence') ?? null,
    reconcileBase: outcome.result<BaseRecorded>('record-base') ?? null,
    putBack: outcome.result<PutBack>('put-back')?.changed ?? null,
    leftBehind: outcome.result<LeftBehind>('left-behind') ?? null,
  }
}

// After a point-in-time recovery, the command that compares the old database (under its colour name)
// with the promoted one and writes what to carry over.
export function reconcileCommand(plan: RecoveryPlan, outcome: RunOutcome): string | undefined {
  const alias = outcome.result<string>('keep-alias')
  if (plan.drill || plan.way !== 'point-in-time' || !alias || outcome.status !== 'succeeded') return undefined
  return shellQuote(['heroku', 'db:reconcile', '--app', plan.app, '--from', alias, '--to', `${plan.promoteAs}_URL`, '--since', plan.target!.at])
}

// When the app keeps uploads in S3, the files:recover command for the same time.
function filesCommand(plan: RecoveryPlan): string | undefined {
  const at = plan.drill || plan.surgical ? undefined : plan.target?.at ?? plan.backup?.finishedAt
  if (!at || !plan.hasBucket) return undefined
  return shellQuote(['heroku', 'files:recover', '--app', plan.app, '--to', new Date(at).toISOString()])
}

// The plan as --json has always shown it: its own fields, the steps by title.
function planJson(plan: RecoveryPlan, steps: Step<any>[]) {
  const {what: _what, rerun: _rerun, confirm: _confirm, timeoutMs: _timeoutMs, steps: _steps, hasPooler: _pooler, hasBucket: _bucket, ...shown} = plan
  return {...shown, steps: steps.map(s => s.title)}
}

// db:recover as the guarded skeleton shows it.
export const recoverView: View<RecoveryPlan> = {
  preview: describePlan,
  dryRun: (_plan, command) => `\nDry run: nothing was changed. To recover exactly this: ${command}`,
  closing(plan, outcome) {
    const files = filesCommand(plan)
    const health = watched(outcome)
    return [`\n${describeOutcome(plan, outcome)}`, ...(health ? ['', ...describeHealth(health)] : []), ...(files ? [`\nUploaded files are not in the database: to put the app's bucket back to the same time, preview with --dry-run:\n  ${files}`] : [])].join('\n')
  },
  afterwards: (plan, outcome) => healthWarnings(plan.app, watched(outcome)),
  unfinished: (plan, outcome) => estateUnfinished(plan.estate, outcome, outcome.result<Addon>(CREATED.ref)?.name, outcome.steps.find(s => s.id === 'promote')?.state === 'done'),
  json: (plan, steps, outcome) => ({
    dryRun: !outcome, plan: planJson(plan, steps), outcome: outcome && recovered(outcome), run: outcome && runJson(outcome),
    ...(plan.steps.some(s => s.kind === 'health-watch') && {health: healthJson(watched(outcome))}),
    reconcile: outcome && reconcileCommand(plan, outcome),
    estate: outcome && estateOutcome(plan.estate, outcome),
    ...(outcome?.status === 'succeeded' && {files: filesCommand(plan)}),
  }),
}
