import type {Addon} from '../api/addons.js'
import {isBackup, Transfer, transferName} from '../api/postgres.js'
import {formatBytes} from '../bytes.js'
import type {Check} from '../checks.js'
import {blocking} from '../checks.js'
import {formatDuration} from '../duration.js'
import {estateChecks, type EstatePlan, estateWarnings, moveSteps, planEstate, quietOthers} from '../estate/plan.js'
import type {Plan} from '../plan.js'
import {quieted} from '../platform/steps.js'
import {databaseKey} from '../postgres/connect.js'
import type {Planned} from '../runner/plan.js'
import {ref} from '../runner/step.js'
import {advancedWarnings, forTier} from './advanced.js'
import {fencePlan} from './fence-check.js'
import type {RecoveryFacts} from './gather.js'
import {leftBehindStep} from './leftovers.js'
import type {SourceDatabase} from './point-in-time.js'
import {backupResource, where} from './steps.js'
import type {Target} from './target.js'
import {recoveryWatchChecks, watchRecovery} from './watch.js'
import {type WatchChoice, watchRerun} from '../health/plan.js'

// The pure planner of db:recover: from the facts and the chosen target, the checks that stop it, the
// warnings, and the steps as data (a restore in place; a point-in-time rollback into a new database that
// is promoted; a drill or a surgical recovery through a scratch database), with the command that
// carries out exactly this plan. `--dry-run` and `--json` print it; the runner runs its steps.

export interface RecoveryOptions {
  // The DATABASE argument as given.
  database: string
  drill: boolean
  keep: boolean
  safetyBackup: boolean
  maintenance: boolean
  scaleDownWorkers: boolean
  verify?: string
  // --surgical: put back only the rows of these tables missing from the database, from a scratch copy.
  // `outGiven`: --out was given (the default folder is named by the time, so a re-run needs it).
  surgical?: {tables: string[], out: string, outGiven?: boolean}
  // Record the base of a three-way db:reconcile in the new database before the promote (--no-reconcile-base skips it).
  reconcileBase: boolean
  // --skip-sequence-fence: for a database this machine cannot reach (see fence-check.ts).
  skipSequenceFence?: boolean
  // --wait-timeout as given, and in ms.
  waitTimeout: string
  timeoutMs: number
  // The health watch after the switch (none for a drill).
  watch?: WatchChoice
}

export interface PlannedBackup {
  name: string
  uuid: string
  from: string
  finishedAt: string
  age: string
  size: string
}

export interface RecoveryPlan extends Plan {
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
  // Whether the new database's sequences are advanced past the old one's before the promote.
  sequenceFence: boolean
  maintenance: boolean
  workers: {type: string, quantity: number}[]
  safetyBackup: boolean
  verify?: string
  warnings: string[]
  // For the closing words: a pooler to move, uploaded files to recover to the same time.
  hasPooler: boolean
  hasBucket: boolean
  // Every app on the database, what is done to it, and what becomes of each of its attachments.
  estate: EstatePlan
}

// The steps' results the others and the closing words read.
export const CREATED = ref<Addon>('create-database')
export const SCRATCH = ref<Addon>('create-scratch')
export const SAFETY = ref<Transfer>('safety-backup')

export const SURGICAL_NOTE = (tables: string[], attachment: string) =>
  `Only rows of ${tables.join(', ')} that the recovered copy has and ${attachment} does not are put back; no other row or table of ${attachment} changes, and nothing written since is lost.`

export const RUNBOOK_WARNING = 'Keep in mind that this recovery replaces the database in its entirety: everything written since the recovery point is lost.'

const successfulBackups = (transfers: Transfer[]) =>
  transfers.filter(t => isBackup(t) && t.succeeded && t.finished_at).sort((a, b) => Date.parse(a.finished_at!) - Date.parse(b.finished_at!))

export function findBackup(transfers: Transfer[], name: string): Transfer | undefined {
  if (name === 'latest') return successfulBackups(transfers).at(-1)
  return transfers.filter(isBackup).find(t => transferName(t) === name.toLowerCase())
}

function backupCheck(facts: RecoveryFacts, name: string): {check: Check, backup?: PlannedBackup} {
  const found = findBackup(facts.transfers, name)
  const list = `\`heroku pg:backups -a ${facts.database.billingApp}\` lists them`
  if (!found) {
    const detail = name === 'latest' ? `${facts.database.billingApp} has no successful backup. Capture one with \`heroku pg:backups:capture -a ${facts.app}\`.` : `Backup ${name} not found for ${facts.database.billingApp}; ${list}.`
    return {check: {name: 'backup', outcome: 'failed', detail}}
  }
  const shown = transferName(found)
  if (!found.succeeded || !found.finished_at) {
    return {check: {name: 'backup', outcome: 'failed', detail: `Backup ${shown} did not complete successfully: it cannot be restored. Pick a successful one; ${list}.`}}
  }
  const age = formatDuration(facts.now - Date.parse(found.finished_at))
  const backup = {name: shown, uuid: found.uuid, from: found.from_name, finishedAt: found.finished_at, age, size: formatBytes(found.processed_bytes ?? 0)}
  return {backup, check: {name: 'backup', outcome: 'passed', detail: `${shown} of ${found.from_name}, finished ${found.finished_at} (${age} ago), ${backup.size}.`}}
}

function windowCheck(facts: RecoveryFacts, at: Date): Check {
  const {database} = facts
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

type Shape = Pick<RecoveryPlan, 'way' | 'drill' | 'surgical'>

function warningsFor(plan: Shape, facts: RecoveryFacts, options: RecoveryOptions): string[] {
  if (plan.drill) return [`A drill does not touch ${facts.database.attachment}, but attaching and detaching the scratch database are config changes: ${facts.app} restarts twice.`]
  const warnings = [plan.surgical ? SURGICAL_NOTE(plan.surgical.tables, facts.database.attachment) : RUNBOOK_WARNING]
  if (!options.safetyBackup) warnings.push('--no-safety-backup: no backup of the current state is taken; if this recovery is wrong, there is no way back to it.')
  if (!options.maintenance) warnings.push('--no-maintenance: the app keeps serving requests during the switch.')
  if (facts.maintenance && options.maintenance) warnings.push(`${facts.app} is already in maintenance mode; it is left on afterwards.`)
  if (!options.scaleDownWorkers && quietable(facts).length > 0) {
    warnings.push(`${quietable(facts).map(p => p.type).join(', ')} dynos keep writing during the switch; --scale-down-workers stops them.`)
  }
  if (plan.way === 'point-in-time' && !plan.surgical) {
    warnings.push(`${facts.database.name} is not destroyed: it stays attached under a colour name, and billed, until you remove it with \`heroku addons:destroy\`.`)
    if (!options.reconcileBase) warnings.push('--no-reconcile-base: db:reconcile will compare two-way, and cannot tell writes made to the new database after the promote from writes to carry over.')
  }
  return warnings
}

const sourceOf = ({database: {id, name, plan, billingApp, attachment, attachmentNames}}: RecoveryFacts): SourceDatabase =>
  ({id, name, plan, billingApp, attachment, attachmentNames})

// The steps as data, each kind registered in src/lib/registry.ts (see steps.ts and promote.ts).
function planSteps(facts: RecoveryFacts, plan: Omit<RecoveryPlan, 'steps' | 'what' | 'rerun' | 'confirm'>): Planned[] {
  const {app} = facts
  const source = sourceOf(facts)
  const newestNum = Math.max(0, ...facts.transfers.map(t => t.num))
  const at = plan.target?.at ?? ''
  const backup = plan.backup && {uuid: plan.backup.uuid, name: plan.backup.name}
  const when = (condition: unknown, ...steps: Planned[]) => condition ? steps : []
  const verify = (database: string | typeof CREATED) => when(plan.verify, {id: 'verify', kind: 'verify-database', app, database, sql: plan.verify ?? ''})
  const create = (id: string, scratch: boolean): Planned =>
    ({id, kind: 'create-database', app, source, ...(plan.way === 'point-in-time' && {at}), scratch, keep: plan.keep, knownAddons: facts.knownAddons})
  const safety = when(plan.safetyBackup, {
    id: SAFETY.ref, kind: 'capture-backup', safety: true,
    target: {database: {addon: {id: source.id, name: source.name, plan: {name: source.plan}, app: {name: source.billingApp}}, attachmentNames: source.attachmentNames}, label: where(source), newestNum},
  })
  const quiet = (during: Planned[]) => quieted(app, {maintenance: plan.maintenance, workers: plan.workers}, quietOthers(plan.estate, during))
  if (plan.drill || plan.surgical) {
    const tables = plan.surgical?.tables ?? []
    return [
      create(SCRATCH.ref, true),
      ...(backup ? [{id: 'restore-scratch', kind: 'restore-backup', app, source, backup, newestNum, into: SCRATCH} satisfies Planned] : []),
      ...verify(SCRATCH),
      ...when(plan.surgical, ...safety, ...quiet([{id: 'put-back', kind: 'put-back-rows', app, source, scratch: SCRATCH, tables, out: plan.surgical?.out ?? '', safety: plan.safetyBackup}])),
      ...when(!plan.keep, {id: 'destroy-scratch', kind: 'destroy-scratch', app, scratch: SCRATCH, putsBack: SCRATCH.ref}),
    ]
  }
  if (backup) {
    return quiet([...safety, {id: 'restore', kind: 'restore-backup', app, source, backup, newestNum, ...(plan.safetyBackup && {safety: SAFETY})}, ...verify(source.attachment)])
  }
  const as = plan.promoteAs ?? source.attachment
  return [
    create(CREATED.ref, false),
    ...verify(CREATED),
    ...when(plan.reconcileBase, {id: 'record-base', kind: 'record-reconcile-base', app, created: CREATED, old: {id: source.id, name: source.name}, recoveryPoint: at}),
    ...quiet([
      ...when(plan.sequenceFence, {id: 'sequence-fence', kind: 'sequence-fence', app, old: {attachment: source.attachment, name: source.name}, created: CREATED, recoveryPoint: at}),
      {id: 'keep-alias', kind: 'keep-alias', app, old: source.name, as},
      {id: 'promote', kind: 'promote-database', app, created: CREATED, old: source.name, as},
      ...when(facts.hasPooler, {id: 'pooler', kind: 'attach-pooler', app, created: CREATED}),
      ...moveSteps(plan.estate, {id: source.id, name: source.name}, CREATED),
      ...when(facts.formation.some(p => p.type === 'release'), {id: 'release-phase', kind: 'await-promote-release', app, as}),
    ]),
    {id: 'follower-check', kind: 'follower-check', app, created: CREATED},
    ...when(plan.safetyBackup, {id: 'backup-new', kind: 'capture-backup', target: {created: CREATED, plan: source.plan, billingApp: source.billingApp, attachmentNames: [as], newestNum}}),
  ]
}

// The command that recovers to exactly what was previewed: the backup by name, the time to the second.
function rerunOf(plan: Pick<RecoveryPlan, 'app' | 'way' | 'backup' | 'target'>, target: Target, options: RecoveryOptions): string[] {
  const {app} = plan
  return [
    'heroku', 'db:recover', options.database, '--app', app,
    ...(plan.way === 'backup' ? ['--backup', plan.backup?.name ?? (target.kind === 'backup' ? target.ref : '')] : ['--to', plan.target!.at]),
    ...(options.verify ? ['--verify', options.verify] : []),
    ...(options.scaleDownWorkers ? ['--scale-down-workers'] : []),
    ...(options.safetyBackup ? [] : ['--no-safety-backup']),
    ...(options.maintenance ? [] : ['--no-maintenance']),
    ...(options.reconcileBase || plan.way !== 'point-in-time' ? [] : ['--no-reconcile-base']),
    ...(options.skipSequenceFence ? ['--skip-sequence-fence'] : []),
    ...(options.drill ? ['--drill'] : []),
    ...(options.surgical ? ['--surgical', '--tables', options.surgical.tables.join(','), ...(options.surgical.outGiven ? ['--out', options.surgical.out] : [])] : []),
    ...(options.keep ? ['--keep'] : []),
    ...(options.waitTimeout === '2h' ? [] : ['--wait-timeout', options.waitTimeout]),
    ...(options.drill ? [] : watchRerun(options.watch)), '--confirm', app,
  ]
}

const describeWhat = (plan: Pick<RecoveryPlan, 'drill' | 'surgical' | 'database' | 'way' | 'backup' | 'target'>) =>
  `${plan.drill ? 'drill: ' : plan.surgical ? `surgical (${plan.surgical.tables.join(', ')}): ` : ''}recover ${plan.database.attachment} ${plan.way === 'backup' ? `from ${plan.backup?.name}` : `to ${plan.target?.at}`}`

export function planRecovery(facts: RecoveryFacts, target: Target, options: RecoveryOptions): RecoveryPlan {
  const {database} = facts
  const checks: Check[] = [{name: 'database', outcome: 'passed', detail: `${database.attachment} is ${database.name} (${database.plan}), attached as ${database.attachmentNames.join(', ')}.`}]
  const drill = options.drill
  const surgical = drill || !options.surgical ? undefined : {tables: options.surgical.tables, out: options.surgical.out}
  let backup: PlannedBackup | undefined
  let at: RecoveryPlan['target']
  if (target.kind === 'backup') {
    const found = backupCheck(facts, target.ref)
    checks.push(found.check)
    backup = found.backup
  } else {
    checks.push(windowCheck(facts, target.at))
    at = {at: target.at.toISOString(), reason: target.reason, earliest: facts.rollbackEarliest?.toISOString() ?? null}
  }
  const way = target.kind === 'backup' ? 'backup' : 'point-in-time'
  const promoted = way === 'point-in-time' && !drill && !surgical
  const fence = fencePlan(facts, {promoted, surgical: Boolean(surgical), verify: Boolean(options.verify), reconcileBase: promoted && options.reconcileBase, at: at?.at}, Boolean(options.skipSequenceFence))
  if (way === 'point-in-time') checks.push(...fence.checks)
  const maintenance = !drill && options.maintenance && !facts.maintenance
  const estate = planEstate(facts.estate, {
    app: facts.app, database: database.name, attachmentOrder: database.attachmentNames, promoteAs: promoted ? promoteName(facts) : undefined, hasPooler: facts.hasPooler,
    quiet: !drill, maintenance: options.maintenance, scaleDownWorkers: options.scaleDownWorkers, own: {maintenance, alreadyOn: facts.maintenance, formation: facts.formation},
  })
  checks.push(...estateChecks(facts.estate, estate))
  const shape = {
    app: facts.app, checks, timeoutMs: options.timeoutMs,
    database: {addon: database.name, plan: database.plan, attachment: database.attachment, attachmentNames: database.attachmentNames},
    way, drill, keep: (drill || Boolean(surgical)) && options.keep, surgical, backup, target: at,
    promoteAs: promoted ? promoteName(facts) : undefined,
    reconcileBase: promoted && options.reconcileBase,
    sequenceFence: fence.sequenceFence,
    maintenance,
    workers: !drill && options.scaleDownWorkers ? quietable(facts).map(p => ({type: p.type, quantity: p.quantity})) : [],
    safetyBackup: !drill && options.safetyBackup,
    verify: options.verify,
    warnings: [...warningsFor({way, drill, surgical}, facts, options), ...fence.warnings, ...(database.advanced && way === 'point-in-time' ? advancedWarnings(database.name, facts.fork?.level) : []), ...estateWarnings(estate)],
    hasPooler: facts.hasPooler,
    hasBucket: facts.hasBucket,
    estate,
  } satisfies Omit<RecoveryPlan, 'steps' | 'what' | 'rerun' | 'confirm'>
  checks.push(...recoveryWatchChecks(shape, options.watch))
  return {
    ...shape,
    steps: blocking(checks).length > 0 ? [] : watchRecovery(shape, options.watch, forTier(facts, [...planSteps(facts, shape), ...(promoted ? [leftBehindStep(facts, CREATED)] : [])])),
    what: describeWhat(shape),
    rerun: rerunOf(shape, target, options),
    confirm: drill ? `This creates and destroys a scratch database on ${facts.app}.` : surgical ? SURGICAL_NOTE(surgical.tables, database.attachment) : RUNBOOK_WARNING,
  }
}

// What the command already read that the steps need and the plan must not hold: the backup's URL.
export function recoveryResources(facts: RecoveryFacts, plan: RecoveryPlan): Map<string, unknown> {
  const backup = facts.transfers.find(t => t.uuid === plan.backup?.uuid)
  return new Map([
    ...(backup?.to_url ? [backupResource(backup)] : []),
    // The database the gather connected to, resolved once: the fence reaches it by the same name.
    ...(facts.reached ? [[databaseKey(facts.app, facts.database.attachment), facts.reached] as [string, unknown]] : []),
  ])
}
