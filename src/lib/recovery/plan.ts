import {isBackup, Transfer, transferName} from '../api/postgres.js'
import {formatBytes} from '../bytes.js'
import type {Check} from '../checks.js'
import {formatDuration} from '../duration.js'
import type {RecoveryFacts} from './gather.js'
import type {Target} from './target.js'

// The pure planner: from the facts and the chosen target, what `db:recover` will do and why, and
// which checks stop it. `--dry-run` and `--json` print this; steps.ts turns it into the steps the runner runs.

export interface RecoveryOptions {
  drill: boolean
  keep: boolean
  safetyBackup: boolean
  maintenance: boolean
  scaleDownWorkers: boolean
  verify?: string
  // --surgical: put back only the rows of these tables missing from the database, from a scratch copy.
  surgical?: {tables: string[], out: string}
  // Record the base of a three-way db:reconcile in the new database before the promote (--no-reconcile-base skips it).
  reconcileBase?: boolean
}

export interface PlannedBackup {
  name: string
  uuid: string
  from: string
  finishedAt: string
  age: string
  size: string
}

export interface RecoveryPlan {
  app: string
  database: {addon: string, plan: string, attachment: string, attachmentNames: string[]}
  way: 'backup' | 'point-in-time'
  drill: boolean
  keep: boolean
  surgical?: {tables: string[], out: string}
  backup?: PlannedBackup
  target?: {at: string, reason: string, earliest: string | null}
  // The attachment name the recovered database takes when it is promoted.
  promoteAs?: string
  // Whether the new database gets the base db:reconcile compares three-way against (point-in-time only).
  reconcileBase: boolean
  maintenance: boolean
  workers: {type: string, quantity: number}[]
  safetyBackup: boolean
  verify?: string
  checks: Check[]
  warnings: string[]
}

export const SURGICAL_NOTE = (tables: string[], attachment: string) =>
  `Only rows of ${tables.join(', ')} that the recovered copy has and ${attachment} does not are put back; no other row or table of ${attachment} changes, and nothing written since is lost.`

export const RUNBOOK_WARNING = 'Keep in mind that this recovery replaces the database in its entirety: everything written since the recovery point is lost.'

const successfulBackups = (transfers: Transfer[]) =>
  transfers.filter(t => isBackup(t) && t.succeeded && t.finished_at).sort((a, b) => Date.parse(a.finished_at!) - Date.parse(b.finished_at!))

export function findBackup(transfers: Transfer[], ref: string): Transfer | undefined {
  if (ref === 'latest') return successfulBackups(transfers).at(-1)
  return transfers.filter(isBackup).find(t => transferName(t) === ref.toLowerCase())
}

function backupCheck(facts: RecoveryFacts, ref: string): {check: Check, backup?: PlannedBackup} {
  const found = findBackup(facts.transfers, ref)
  const list = `\`heroku pg:backups -a ${facts.database.billingApp}\` lists them`
  if (!found) {
    const detail = ref === 'latest' ? `${facts.database.billingApp} has no successful backup. Capture one with \`heroku pg:backups:capture -a ${facts.app}\`.` : `Backup ${ref} not found for ${facts.database.billingApp}; ${list}.`
    return {check: {name: 'backup', outcome: 'failed', detail}}
  }
  const name = transferName(found)
  if (!found.succeeded || !found.finished_at) {
    return {check: {name: 'backup', outcome: 'failed', detail: `Backup ${name} did not complete successfully: it cannot be restored. Pick a successful one; ${list}.`}}
  }
  const age = formatDuration(facts.now - Date.parse(found.finished_at))
  const backup = {name, uuid: found.uuid, from: found.from_name, finishedAt: found.finished_at, age, size: formatBytes(found.processed_bytes ?? 0)}
  return {backup, check: {name: 'backup', outcome: 'passed', detail: `${name} of ${found.from_name}, finished ${found.finished_at} (${age} ago), ${backup.size}.`}}
}

function windowCheck(facts: RecoveryFacts, at: Date): Check {
  const {database} = facts
  if (database.advanced) {
    return {name: 'point in time', outcome: 'failed', detail: `${database.name} is an Advanced-tier database, which forks differently: use \`heroku data:pg:fork\` with a recovery time.`}
  }
  if (database.essential || !facts.rollbackEarliest) {
    return {name: 'point in time', outcome: 'failed', detail: `${database.plan} has no point-in-time rollback (no continuous protection). Restore a backup instead: --backup latest.`}
  }
  if (at.getTime() > facts.now) return {name: 'point in time', outcome: 'failed', detail: `${at.toISOString()} is in the future.`}
  if (at < facts.rollbackEarliest) {
    return {name: 'point in time', outcome: 'failed', detail: `${at.toISOString()} is outside the rollback window: ${database.name} can go back to ${facts.rollbackEarliest.toISOString()} at the earliest.`}
  }
  return {name: 'point in time', outcome: 'passed', detail: `${at.toISOString()} (${formatDuration(facts.now - at.getTime())} ago) is inside the rollback window, which starts ${facts.rollbackEarliest.toISOString()}.`}
}

const quietable = (facts: RecoveryFacts) => facts.formation.filter(p => p.type !== 'web' && p.type !== 'release' && p.quantity > 0)

// Where the recovered database goes when promoted: DATABASE when the source holds it, else its own name.
const promoteName = (facts: RecoveryFacts) => facts.database.attachmentNames.includes('DATABASE') ? 'DATABASE' : facts.database.attachment

function warningsFor(plan: RecoveryPlan, facts: RecoveryFacts, options: RecoveryOptions): string[] {
  const warnings: string[] = []
  if (plan.drill) {
    warnings.push(`A drill does not touch ${facts.database.attachment}, but attaching and detaching the scratch database are config changes: ${facts.app} restarts twice.`)
    return warnings
  }
  warnings.push(plan.surgical ? SURGICAL_NOTE(plan.surgical.tables, facts.database.attachment) : RUNBOOK_WARNING)
  if (!options.safetyBackup) warnings.push('--no-safety-backup: no backup of the current state is taken; if this recovery is wrong, there is no way back to it.')
  if (!options.maintenance) warnings.push('--no-maintenance: the app keeps serving requests during the switch.')
  if (facts.maintenance && options.maintenance) warnings.push(`${facts.app} is already in maintenance mode; it is left on afterwards.`)
  if (!options.scaleDownWorkers && quietable(facts).length > 0) {
    warnings.push(`${quietable(facts).map(p => p.type).join(', ')} dynos keep writing during the switch; --scale-down-workers stops them.`)
  }
  if (plan.way === 'point-in-time' && !plan.surgical) {
    warnings.push(`${facts.database.name} is not destroyed: it stays attached under a colour name, and billed, until you remove it with \`heroku addons:destroy\`.`)
    if (options.reconcileBase === false) warnings.push('--no-reconcile-base: db:reconcile will compare two-way, and cannot tell writes made to the new database after the promote from writes to carry over.')
  }
  return warnings
}

export function planRecovery(facts: RecoveryFacts, target: Target, options: RecoveryOptions): RecoveryPlan {
  const {database} = facts
  const checks: Check[] = [{name: 'database', outcome: 'passed', detail: `${database.attachment} is ${database.name} (${database.plan}), attached as ${database.attachmentNames.join(', ')}.`}]
  const plan: RecoveryPlan = {
    app: facts.app,
    database: {addon: database.name, plan: database.plan, attachment: database.attachment, attachmentNames: database.attachmentNames},
    way: target.kind === 'backup' ? 'backup' : 'point-in-time',
    drill: options.drill,
    keep: (options.drill || Boolean(options.surgical)) && options.keep,
    surgical: options.drill ? undefined : options.surgical,
    maintenance: !options.drill && options.maintenance && !facts.maintenance,
    workers: !options.drill && options.scaleDownWorkers ? quietable(facts).map(p => ({type: p.type, quantity: p.quantity})) : [],
    safetyBackup: !options.drill && options.safetyBackup,
    verify: options.verify,
    reconcileBase: false,
    checks,
    warnings: [],
  }
  if (target.kind === 'backup') {
    const {check, backup} = backupCheck(facts, target.ref)
    checks.push(check)
    plan.backup = backup
  } else {
    checks.push(windowCheck(facts, target.at))
    plan.target = {at: target.at.toISOString(), reason: target.reason, earliest: facts.rollbackEarliest?.toISOString() ?? null}
    if (!options.drill && !options.surgical) {
      plan.promoteAs = promoteName(facts)
      plan.reconcileBase = options.reconcileBase !== false
    }
  }
  plan.warnings = warningsFor(plan, facts, options)
  return plan
}
