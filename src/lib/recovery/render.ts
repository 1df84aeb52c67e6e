import type {Addon} from '../api/addons.js'
import {Transfer, transferName} from '../api/postgres.js'
import {formatDuration} from '../duration.js'
import {checksSection, stepList} from '../render/index.js'
import type {RunOutcome} from '../runner/runner.js'
import type {Step} from '../runner/step.js'
import type {RecoveryFacts} from './gather.js'
import type {RecoveryPlan} from './plan.js'
import {shellQuote} from '../shell.js'
import type {SequenceMove} from '../reconcile/sequences.js'
import type {PutBack} from '../reconcile/surgical.js'
import {BaseRecorded, restoreCommand} from './steps.js'

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
    '',
    ...checksSection(plan.checks),
    '',
    'Steps:',
    ...stepList(steps),
    ...(plan.warnings.length > 0 ? ['', ...plan.warnings.map(w => `Warning: ${w}`)] : []),
  ].join('\n')
}

function promoted(facts: RecoveryFacts, plan: RecoveryPlan, outcome: RunOutcome): string[] {
  const created = outcome.result<Addon>('create-database')!
  const alias = outcome.result<string>('keep-alias')
  const follower = outcome.result<boolean>('follower-check')
  const phase = outcome.result<string>('release-phase')
  return [
    `${plan.promoteAs}_URL now points to ${created.name}, the database as of ${plan.target?.at}; it has new credentials, and the app restarted with them.`,
    `${facts.database.name} is still attached${alias ? ` as ${alias}_URL` : ''} and still billed: \`heroku addons:destroy ${facts.database.name} --app ${facts.app}\` once you no longer need it.`,
    facts.hasPooler ? 'The connection pooler (DATABASE_CONNECTION_POOL) was re-attached to the new database.' : 'There was no connection-pooling attachment to move.',
    `Followers of ${facts.database.name} were not carried over: create new ones from ${created.name} if you need them.`,
    ...(follower ? [`${created.name} is a follower (read-only): \`heroku pg:unfollow ${created.name} --app ${facts.app}\` makes it writable.`] : []),
    ...(phase ? [`Release phase: ${phase}.`] : []),
  ]
}

// What a successful recovery did, and the way back.
export function describeOutcome(facts: RecoveryFacts, plan: RecoveryPlan, outcome: RunOutcome, durationMs: number): string {
  const backupName = (id: string) => {
    const transfer = outcome.result<Transfer>(id)
    return transfer && transferName(transfer)
  }
  const lines: string[] = []
  if (plan.surgical) {
    const scratch = outcome.result<Addon>('create-scratch')!
    const put = outcome.result<PutBack>('put-back')!
    const total = Object.values(put.changed).reduce((a, b) => a + b, 0)
    lines.push(`Put back ${total} row${total === 1 ? '' : 's'} in ${formatDuration(durationMs)}, in one transaction; nothing else in ${plan.database.attachment} was touched.`,
      ...Object.entries(put.changed).map(([table, n]) => `  - ${table}: ${n}`),
      `  - The rows put back are listed in ${put.folder} (personal data: keep the folder private).`,
      `  - ${plan.keep ? `Scratch database ${scratch.name} is kept (--keep): \`heroku addons:destroy ${scratch.name} --app ${facts.app} --confirm ${facts.app}\` removes it.` : `Scratch database ${scratch.name} was destroyed.`}`)
    const safety = backupName('safety-backup')
    if (safety) lines.push(`  - Safety backup ${safety} holds the data from before; \`${restoreCommand(facts, safety)}\` goes back to it.`)
    return lines.join('\n')
  }
  if (plan.drill) {
    const scratch = outcome.result<Addon>('create-scratch')!
    lines.push(`Drill done in ${formatDuration(durationMs)}.`, `  - Recovered into scratch database ${scratch.name}. ${plan.database.attachment} (${plan.database.addon}) was not touched.`,
      `  - ${plan.keep ? `Scratch database ${scratch.name} is kept (--keep): \`heroku addons:destroy ${scratch.name} --app ${facts.app} --confirm ${facts.app}\` removes it.` : `Scratch database ${scratch.name} was destroyed.`}`)
  } else if (plan.way === 'backup') {
    lines.push(`Recovered in ${formatDuration(durationMs)}.`, `  - ${plan.database.attachment} (${plan.database.addon}) now holds the data of ${plan.backup?.name} (${plan.backup?.finishedAt}).`)
    const safety = backupName('safety-backup')
    if (safety) lines.push(`  - Safety backup ${safety} holds the data from before the restore.`)
  } else {
    lines.push(`Recovered in ${formatDuration(durationMs)}.`, ...promoted(facts, plan, outcome).map(line => `  - ${line}`))
    const backup = backupName('backup-new')
    if (backup) lines.push(`  - Backup ${backup} of the new database was captured.`)
  }
  const verified = outcome.result<string>('verify')
  if (verified) lines.push(`  - --verify passed: ${verified}.`)
  const touched = [
    ...(plan.maintenance ? ['maintenance mode (on, then off)'] : []),
    ...plan.workers.map(w => `${w.type} (scaled 0, then back to ${w.quantity})`),
  ]
  if (touched.length > 0) lines.push(`  - Touched during the switch: ${touched.join(', ')}.`)
  const safety = backupName('safety-backup')
  const reconcile = reconcileCommand(facts, plan, outcome)
  if (reconcile) {
    const base = outcome.result<BaseRecorded>('record-base')
    const how = base?.recorded
      ? `it compares three-way, against the base recorded in ${base.database} before the promote, so writes the app makes to it from now on are kept`
      : 'with no base recorded, it compares two-way, and --apply needs --prefer old|current'
    lines.push('', `Writes made to ${facts.database.name} after ${plan.target?.at} are not in the new database. Compare and carry them over with (${how}):`, `  ${reconcile}`)
  }
  const back = plan.drill ? [] : plan.way === 'backup' ? (safety ? [restoreCommand(facts, safety)] : []) : [`heroku pg:promote ${facts.database.name} --app ${facts.app}`]
  if (back.length > 0) lines.push('', 'To go back:', ...back.map(u => `  ${u}`))
  return lines.join('\n')
}

// What --json says the recovery made: names only (never a URL).
export function recovered(outcome: RunOutcome) {
  const name = (id: string): string | undefined => {
    const made = outcome.result<Transfer | Addon | {transfer: Transfer}>(id)
    if (!made) return undefined
    return 'transfer' in made ? transferName(made.transfer) : 'num' in made ? transferName(made) : made.name
  }
  const scratch = name('create-scratch')
  return {
    recovered: outcome.status === 'succeeded',
    database: name('create-database') ?? null,
    safetyBackup: name('safety-backup') ?? null,
    restore: name('restore') ?? null,
    backupOfNewDatabase: name('backup-new') ?? null,
    scratch: scratch ? {addon: scratch, destroyed: outcome.steps.find(s => s.id === 'destroy-scratch')?.state === 'done' || outcome.steps.find(s => s.id === 'create-scratch')?.state === 'undone'} : null,
    verification: outcome.result<string>('verify') ?? null,
    sequenceFence: outcome.result<SequenceMove[]>('sequence-fence') ?? null,
    reconcileBase: outcome.result<BaseRecorded>('record-base') ?? null,
    putBack: outcome.result<PutBack>('put-back')?.changed ?? null,
  }
}

// After a point-in-time recovery, the command that compares the old database (under its colour name)
// with the promoted one and writes what to carry over.
export function reconcileCommand(facts: RecoveryFacts, plan: RecoveryPlan, outcome: RunOutcome): string | undefined {
  const alias = outcome.result<string>('keep-alias')
  if (plan.drill || plan.way !== 'point-in-time' || !alias || outcome.status !== 'succeeded') return undefined
  return shellQuote(['heroku', 'db:reconcile', '--app', facts.app, '--from', alias, '--to', `${plan.promoteAs}_URL`, '--since', plan.target!.at])
}
