import {Database, Transfer, isBackup, listTransfers, postgresDatabases, startBackup, transferName, waitForTransfer} from '../api/postgres.js'
import type {Heroku} from '../api/heroku.js'
import type {Check} from '../checks.js'
import {formatBytes} from '../bytes.js'
import {ageOf, formatDuration} from '../duration.js'
import {Refused} from '../errors.js'
import {isInteractive, yesNo} from '../prompts.js'

// The runbook's first rule: "before any rollback, make sure there are up-to-date backups".

export interface BackupState {
  database: Database
  label: string
  latest?: {name: string, finishedAt: string, ageMs: number}
  fresh: boolean
}

export interface GateOptions {
  maxAgeMs: number
  capture: boolean
  skip: boolean
  dryRun: boolean
  onProgress?: (message: string) => void
  // The backup states when already fetched (in parallel with other reads).
  states?: Promise<BackupState[]>
}

export interface GateResult {
  check: Check
  captured: {database: string, backup: string}[]
}

const labelOf = (db: Database) => `${db.attachmentNames.join(', ')} (${db.addon.name})`

// A backup belongs to a database when it was taken from one of the names the database is attached under.
const belongsTo = (db: Database, transfer: Transfer) =>
  db.attachmentNames.includes(transfer.from_name) || transfer.from_name === db.addon.name

export async function backupStates(heroku: Heroku, app: string, maxAgeMs: number): Promise<BackupState[]> {
  const databases = await postgresDatabases(heroku, app)
  const billingApps = [...new Set(databases.map(db => db.addon.app.name))]
  const transfers = new Map(await Promise.all(billingApps.map(async name => [name, await listTransfers(heroku, name)] as const)))
  return databases.map(database => {
    const good = (transfers.get(database.addon.app.name) ?? [])
      .filter(t => isBackup(t) && t.succeeded && t.finished_at && belongsTo(database, t))
      .sort((a, b) => Date.parse(b.finished_at!) - Date.parse(a.finished_at!))[0]
    const latest = good && {name: transferName(good), finishedAt: good.finished_at!, ageMs: ageOf(good.finished_at!)}
    return {database, label: labelOf(database), latest, fresh: Boolean(latest && latest.ageMs <= maxAgeMs)}
  })
}

const describe = (state: BackupState) => state.latest
  ? `${state.label}: newest good backup ${state.latest.name} is ${formatDuration(state.latest.ageMs)} old`
  : `${state.label}: no successful backup`

export async function captureBackup(heroku: Heroku, database: Database, onProgress?: (message: string) => void): Promise<Transfer> {
  const started = await startBackup(heroku, database.addon.id)
  const name = transferName(started)
  const done = await waitForTransfer(heroku, database.addon.app.name, started, t => onProgress?.(`${name}: ${formatBytes(t.processed_bytes)} processed`))
  if (!done.succeeded) {
    throw new Refused(`Backup ${name} of ${labelOf(database)} failed.`, 'Nothing was rolled back; the app is as it was. Check `heroku pg:backups:info ' + name + '`.')
  }
  return done
}


export async function backupGate(heroku: Heroku, app: string, options: GateOptions): Promise<GateResult> {
  const limit = formatDuration(options.maxAgeMs)
  if (options.skip) {
    return {check: {name: 'backups', outcome: 'warning', detail: 'Skipped with --skip-backup-check: nothing shows that a recent backup exists.'}, captured: []}
  }
  const states = await (options.states ?? backupStates(heroku, app, options.maxAgeMs))
  if (states.length === 0) {
    return {check: {name: 'backups', outcome: 'passed', detail: 'No Heroku Postgres database is attached: no backup needed.'}, captured: []}
  }
  const stale = states.filter(s => !s.fresh)
  if (stale.length === 0) {
    return {check: {name: 'backups', outcome: 'passed', detail: `${states.map(describe).join('; ')} (limit ${limit}).`}, captured: []}
  }
  const staleText = `${stale.map(describe).join('; ')} (limit ${limit})`
  let capture = options.capture
  if (!capture && !options.dryRun && isInteractive()) capture = await yesNo(`${staleText}. Capture a fresh backup now?`, '--capture-backup', true)
  if (!capture) {
    return {check: {name: 'backups', outcome: 'failed', detail: `${staleText}. Capture one with --capture-backup, raise --max-backup-age, or pass --skip-backup-check.`}, captured: []}
  }
  if (options.dryRun) {
    return {check: {name: 'backups', outcome: 'passed', detail: `${staleText}; --capture-backup would capture a fresh backup first.`}, captured: []}
  }
  const done = await Promise.all(stale.map(async state => ({database: state.label, backup: transferName(await captureBackup(heroku, state.database, options.onProgress))})))
  return {check: {name: 'backups', outcome: 'passed', detail: `Captured ${done.map(d => `${d.backup} of ${d.database}`).join(', ')}.`}, captured: done}
}
