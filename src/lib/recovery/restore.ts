import type {Heroku} from '../api/heroku.js'
import {startRestore, Transfer, transferName, waitForTransfer} from '../api/postgres.js'
import {captureBackup} from '../backups/gate.js'
import {formatBytes} from '../bytes.js'
import {SafeRollbackError} from '../errors.js'
import type {RecoveryFacts} from './facts.js'
import {duringSwitch, Touched} from './guard.js'
import type {RecoveryOutcome} from './outcome.js'
import type {RecoveryPlan} from './plan.js'
import type {Progress} from './point-in-time.js'
import {runVerification} from './verify.js'

// The first way back: restore a backup into the database, replacing its data in place, with the
// call `heroku pg:backups:restore` makes.

export interface ApplyContext {
  progress: Progress
  timeoutMs: number
}

export const asGateDatabase = (facts: RecoveryFacts, addon = {id: facts.database.id, name: facts.database.name}, names = facts.database.attachmentNames) => ({
  addon: {...addon, plan: {name: facts.database.plan}, app: {name: facts.database.billingApp}},
  attachmentNames: names,
})

export function backupUrl(facts: RecoveryFacts, plan: RecoveryPlan): string {
  const backup = facts.transfers.find(t => t.uuid === plan.backup?.uuid)
  if (!backup?.to_url) throw new SafeRollbackError(`Backup ${plan.backup?.name} has no URL to restore from.`, 'Nothing was changed.')
  return backup.to_url
}

// Starts a restore into `addonId` and waits for it, showing bytes processed.
export async function restoreInto(heroku: Heroku, billingApp: string, addonId: string, url: string, context: ApplyContext): Promise<Transfer> {
  const started = await startRestore(heroku, addonId, url)
  const name = transferName(started)
  const done = await waitForTransfer(heroku, billingApp, started, t => context.progress.status(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), context.timeoutMs)
  if (!done.succeeded) throw new SafeRollbackError(`Restore ${name} failed.`)
  return done
}

const restoreCommand = (facts: RecoveryFacts, backup: string) =>
  `heroku pg:backups:restore ${backup} ${facts.database.attachment}_URL --app ${facts.app} --confirm ${facts.app}`

function whereThingsStand(facts: RecoveryFacts, plan: RecoveryPlan, safety?: string) {
  const back = safety ? `Safety backup ${safety} holds the data from before: \`${restoreCommand(facts, safety)}\` brings it back.` : 'No safety backup was taken.'
  return `${facts.database.attachment} may now hold ${plan.backup?.name}'s data. ${back}`
}

export async function recoverFromBackup(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan, context: ApplyContext): Promise<RecoveryOutcome> {
  const started = Date.now()
  const touched: Touched = {maintenance: false, workers: []}
  const outcome: RecoveryOutcome = {recovered: false, durationMs: 0, database: facts.database.name, touched, changes: [], undo: []}
  await duringSwitch(heroku, plan, touched, async () => {
    if (plan.safetyBackup) {
      context.progress.step(`Capturing a safety backup of ${facts.database.attachment}`)
      outcome.safetyBackup = transferName(await captureBackup(heroku, asGateDatabase(facts), message => context.progress.status(message)))
    }
    context.progress.step(`Restoring ${plan.backup?.name} into ${facts.database.attachment} (${facts.database.name})`)
    try {
      outcome.restore = transferName(await restoreInto(heroku, facts.database.billingApp, facts.database.id, backupUrl(facts, plan), context))
    } catch (error) {
      throw new SafeRollbackError((error as Error).message, whereThingsStand(facts, plan, outcome.safetyBackup))
    }
    if (plan.verify) {
      context.progress.step(`Verifying ${facts.database.attachment}`)
      outcome.verification = await runVerification(heroku, facts.app, facts.database.attachment, plan.verify)
      if (!outcome.verification.passed) throw new SafeRollbackError(`--verify failed on ${facts.database.attachment}: ${outcome.verification.detail}.`, whereThingsStand(facts, plan, outcome.safetyBackup))
    }
  })
  outcome.recovered = true
  outcome.durationMs = Date.now() - started
  outcome.changes.push(`${facts.database.attachment} (${facts.database.name}) now holds the data of ${plan.backup?.name} (${plan.backup?.finishedAt}).`)
  if (outcome.safetyBackup) outcome.undo.push(restoreCommand(facts, outcome.safetyBackup))
  return outcome
}
