import type {Addon} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {Database, isBackup, listTransfers, postgresDatabases, startBackup, Transfer, transferName, waitForTransfer} from '../api/postgres.js'
import {formatBytes} from '../bytes.js'
import type {Check} from '../checks.js'
import {ageOf, formatDuration} from '../duration.js'
import {type Prompts, prompts} from '../prompts.js'
import type {BuildersOf, Planned} from '../runner/plan.js'
import type {Ref, Step, StepContext} from '../runner/step.js'

declare module '../runner/plan.js' {
  interface StepKinds {
    // `safety`: the backup of a database as it is now, before a recovery changes it.
    'capture-backup': {target: CaptureTarget | CreatedTarget, safety?: boolean}
  }
}

// The runbook's first rule: "before any rollback, make sure there are up-to-date backups". The gate
// only reads; a backup it asks for is captured by a step of the plan, after the confirmation.

export interface BackupState {
  database: Database
  label: string
  latest?: {name: string, finishedAt: string, ageMs: number}
  fresh: boolean
  // The newest transfer number of the billing app: a capture after it is ours.
  newestNum: number
}

export interface GateOptions {
  maxAgeMs: number
  capture: boolean
  skip: boolean
  dryRun: boolean
}

export interface GateResult {
  check: Check
  // Databases to capture a backup of, as steps after the confirmation.
  capture: BackupState[]
}

export const labelOf = (db: Database) => `${db.attachmentNames.join(', ')} (${db.addon.name})`

// A backup belongs to a database when it was taken from one of the names the database is attached under.
const belongsTo = (db: Database, transfer: Transfer) =>
  db.attachmentNames.includes(transfer.from_name) || transfer.from_name === db.addon.name

// `notBefore` (by add-on id): a backup that finished before the database was created is of another
// database that was attached under the same name (the one a recovery replaced), never of this one.
// The transfers are read in the same round as the attachments, under the app itself (the billing app of
// the databases it created); another billing app, or a first read that failed, is read once the
// attachments name it.
export async function backupStates(api: Api, app: string, maxAgeMs: number, notBefore: Record<string, number> = {}): Promise<BackupState[]> {
  const early = listTransfers(api, app).catch(() => undefined)
  const databases = await postgresDatabases(api, app)
  const billingApps = [...new Set(databases.map(db => db.addon.app.name))]
  const transfers = new Map(await Promise.all(billingApps.map(async name => [name, (name === app && await early) || await listTransfers(api, name)] as const)))
  return databases.map(database => {
    const all = transfers.get(database.addon.app.name) ?? []
    const good = all.filter(t => isBackup(t) && t.succeeded && t.finished_at && belongsTo(database, t) && Date.parse(t.finished_at) >= (notBefore[database.addon.id] ?? 0))
      .sort((a, b) => Date.parse(b.finished_at!) - Date.parse(a.finished_at!))[0]
    const latest = good && {name: transferName(good), finishedAt: good.finished_at!, ageMs: ageOf(good.finished_at!)}
    return {database, label: labelOf(database), latest, fresh: Boolean(latest && latest.ageMs <= maxAgeMs), newestNum: Math.max(0, ...all.map(t => t.num))}
  })
}

const describe = (state: BackupState) => state.latest
  ? `${state.label}: newest good backup ${state.latest.name} is ${formatDuration(state.latest.ageMs)} old`
  : `${state.label}: no successful backup`

// The gate's question, in a terminal, when a backup is too old and --capture-backup was not given:
// capture one after the confirmation? `ask` is the prompt (src/lib/prompts.ts), a parameter for tests.
export async function askCapture(states: BackupState[], options: GateOptions, ask: Prompts = prompts): Promise<boolean> {
  const stale = states.filter(s => !s.fresh)
  if (options.capture || options.skip || options.dryRun || stale.length === 0 || !ask.interactive()) return options.capture
  return ask.yesNo(`${staleText(stale, options.maxAgeMs)}. Capture a fresh backup after the confirmation?`, '--capture-backup', true)
}

const staleText = (stale: BackupState[], maxAgeMs: number) => `${stale.map(describe).join('; ')} (limit ${formatDuration(maxAgeMs)})`

// The gate itself, pure: whether the backups pass, and which databases a step captures first.
export function gateCheck(states: BackupState[], options: Omit<GateOptions, 'dryRun'>): GateResult {
  const limit = formatDuration(options.maxAgeMs)
  if (options.skip) {
    return {check: {name: 'backups', outcome: 'warning', detail: 'Skipped with --skip-backup-check: nothing shows that a recent backup exists.'}, capture: []}
  }
  if (states.length === 0) {
    return {check: {name: 'backups', outcome: 'passed', detail: 'No Heroku Postgres database is attached: no backup needed.'}, capture: []}
  }
  const stale = states.filter(s => !s.fresh)
  if (stale.length === 0) {
    return {check: {name: 'backups', outcome: 'passed', detail: `${states.map(describe).join('; ')} (limit ${limit}).`}, capture: []}
  }
  if (!options.capture) {
    return {check: {name: 'backups', outcome: 'failed', detail: `${staleText(stale, options.maxAgeMs)}. Capture one with --capture-backup, raise --max-backup-age, or pass --skip-backup-check.`}, capture: []}
  }
  return {check: {name: 'backups', outcome: 'passed', detail: `${staleText(stale, options.maxAgeMs)}; a fresh backup is captured first, after the confirmation.`}, capture: stale}
}

export async function backupGate(states: BackupState[], options: GateOptions, ask: Prompts = prompts): Promise<GateResult> {
  return gateCheck(states, {...options, capture: await askCapture(states, options, ask)})
}

export type CaptureTarget = Pick<BackupState, 'database' | 'label' | 'newestNum'>

// Captures a backup and waits for it to succeed. A lost answer is settled by reading the transfers:
// a backup of this database numbered after the newest one known before is this one. The target may
// be known only when the step runs (a database an earlier step created).
export function captureStep(id: string, title: string, target: CaptureTarget | ((context: StepContext) => CaptureTarget)): Step<Transfer> {
  const of = (context: StepContext) => typeof target === 'function' ? target(context) : target
  return {
    id,
    title,
    apply: context => startBackup(context.api, of(context).database.addon.id),
    async observe(context) {
      const {database, newestNum} = of(context)
      const ours = (await listTransfers(context.api, database.addon.app.name)).find(t => isBackup(t) && t.num > newestNum && belongsTo(database, t))
      return ours ? {applied: true, result: ours} : {applied: false}
    },
    async then(context, started) {
      const {database, label} = of(context)
      const name = transferName(started)
      const billingApp = database.addon.app.name
      const done = await waitForTransfer(context.api, billingApp, started, t => context.status(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), context.timeoutMs)
      if (!done.succeeded) throw new Error(`Backup ${name} of ${label} failed: \`heroku pg:backups:info ${name} --app ${billingApp}\` shows why`)
      return done
    },
    done: transfer => `${transferName(transfer)} succeeded`,
    // The backup's URL is a credential: never in the run log.
    record: ({to_url: _url, ...transfer}) => transfer,
  }
}

export const captureFreshBackup = (state: BackupState) => captureStep(`capture-${state.database.addon.name}`, `Capture a backup of ${state.label}`, state)

// A database an earlier step of the plan created (a point-in-time rollback), known once that step has run.
export interface CreatedTarget {
  created: Ref<Addon>
  plan: string
  billingApp: string
  attachmentNames: string[]
  newestNum: number
}

const captureTitle = (target: CaptureTarget | CreatedTarget, safety?: boolean) => 'created' in target
  ? 'Capture a backup of the new database right away: it has no rollback window of its own yet'
  : safety ? `Capture a safety backup of ${target.label} as it is now` : `Capture a backup of ${target.label}`

const createdTarget = (context: StepContext, {created, plan, billingApp, attachmentNames, newestNum}: CreatedTarget): CaptureTarget => {
  const {id, name} = context.result(created)
  return {database: {addon: {id, name, plan: {name: plan}, app: {name: billingApp}}, attachmentNames}, label: name, newestNum}
}

export const backupSteps: BuildersOf<'capture-backup'> = {
  'capture-backup': ({target, safety}) => {
    const {id: _id, ...step} = captureStep('', captureTitle(target, safety), 'created' in target ? context => createdTarget(context, target) : target)
    return step
  },
}

// A fresh backup of a database whose newest one is too old, as a step of the plan (names and ids only).
export const planCapture = ({database, label, newestNum}: BackupState): Planned => ({
  id: `capture-${database.addon.name}`, kind: 'capture-backup',
  target: {database: {addon: {id: database.addon.id, name: database.addon.name, plan: {name: database.addon.plan.name}, app: {name: database.addon.app.name}}, attachmentNames: database.attachmentNames}, label, newestNum},
})
