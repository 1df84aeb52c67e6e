import {Addon} from '../api/addons.js'
import type {Heroku} from '../api/heroku.js'
import {transferName} from '../api/postgres.js'
import {captureBackup} from '../backups/gate.js'
import {SafeRollbackError} from '../errors.js'
import {drill} from './drill.js'
import type {RecoveryFacts} from './facts.js'
import {duringSwitch, Touched} from './guard.js'
import type {RecoveryOutcome} from './outcome.js'
import type {RecoveryPlan} from './plan.js'
import {createRollbackDatabase, promote, Promotion, waitUntilAvailable} from './point-in-time.js'
import {ApplyContext, asGateDatabase, recoverFromBackup} from './restore.js'
import {runVerification} from './verify.js'

// Applies a plan: a drill, a restore in place, or a point-in-time rollback into a new database.

export function applyRecovery(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan, context: ApplyContext): Promise<RecoveryOutcome> {
  if (plan.drill) return drill(heroku, facts, plan, context)
  if (plan.way === 'backup') return recoverFromBackup(heroku, facts, plan, context)
  return recoverToTime(heroku, facts, plan, context)
}

const notPromoted = (facts: RecoveryFacts, addon: Addon) =>
  `${facts.database.attachment} still points to ${facts.database.name}; nothing was promoted. The rollback database ${addon.name} is attached to ${facts.app} (and billed): inspect it, or remove it with \`heroku addons:destroy ${addon.name} --app ${facts.app}\`.`

function describeSwitch(facts: RecoveryFacts, plan: RecoveryPlan, addon: Addon, promotion: Promotion): string[] {
  const as = plan.promoteAs!
  return [
    `${as}_URL now points to ${addon.name}, the database as of ${plan.target?.at}; it has new credentials, and the app restarted with them.`,
    `${facts.database.name} is still attached${promotion.previousAlias ? ` as ${promotion.previousAlias}_URL` : ''} and still billed: \`heroku addons:destroy ${facts.database.name} --app ${facts.app}\` once you no longer need it.`,
    promotion.poolerReattached ? 'The connection pooler (DATABASE_CONNECTION_POOL) was re-attached to the new database.' : 'There was no connection-pooling attachment to move.',
    `Followers of ${facts.database.name} were not carried over: create new ones from ${addon.name} if you need them.`,
    ...(promotion.follower ? [`${addon.name} is a follower (read-only): \`heroku pg:unfollow ${addon.name} --app ${facts.app}\` makes it writable.`] : []),
    ...(promotion.releasePhase ? [`Release phase: ${promotion.releasePhase}.`] : []),
  ]
}

async function backupNewDatabase(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan, addon: Addon, context: ApplyContext): Promise<string> {
  context.progress.step(`Capturing a backup of ${addon.name}: it has no rollback window of its own yet`)
  const database = asGateDatabase(facts, {id: addon.id, name: addon.name}, [plan.promoteAs!])
  return transferName(await captureBackup(heroku, database, message => context.progress.status(message)))
}

export async function recoverToTime(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan, context: ApplyContext): Promise<RecoveryOutcome> {
  const started = Date.now()
  context.progress.step(`Creating a ${facts.database.plan} rollback of ${facts.database.attachment} as of ${plan.target?.at}`)
  const created = await createRollbackDatabase(heroku, facts, new Date(plan.target!.at))
  const touched: Touched = {maintenance: false, workers: []}
  const outcome: RecoveryOutcome = {recovered: false, durationMs: 0, database: created.name, touched, changes: [], undo: []}
  let addon: Addon
  try {
    context.progress.step(`Waiting for ${created.name} to be available`)
    addon = await waitUntilAvailable(heroku, created, context.timeoutMs, context.progress)
    if (plan.verify) {
      context.progress.step(`Verifying ${addon.name}`)
      outcome.verification = await runVerification(heroku, facts.app, addon.name, plan.verify)
      if (!outcome.verification.passed) throw new SafeRollbackError(`--verify failed on ${addon.name}: ${outcome.verification.detail}.`)
    }
  } catch (error) {
    const known = error instanceof SafeRollbackError ? error : new SafeRollbackError((error as Error).message)
    throw Object.assign(known, {state: [known.state, notPromoted(facts, created)].filter(Boolean).join(' ')})
  }
  let promotion: Promotion
  try {
    promotion = await duringSwitch(heroku, plan, touched, () => promote(heroku, facts.app, addon, plan.promoteAs!, context.progress))
  } catch (error) {
    const known = error instanceof SafeRollbackError ? error : new SafeRollbackError((error as Error).message)
    const check = `The promote of ${created.name} stopped part-way: \`heroku pg:info --app ${facts.app}\` shows which database ${plan.promoteAs}_URL points to; \`heroku pg:promote ${facts.database.name} --app ${facts.app}\` goes back.`
    throw Object.assign(known, {state: [known.state, check].filter(Boolean).join(' ')})
  }
  outcome.recovered = true
  outcome.durationMs = Date.now() - started
  outcome.previous = {addon: facts.database.name, alias: promotion.previousAlias}
  outcome.changes.push(...describeSwitch(facts, plan, created, promotion))
  if (plan.safetyBackup) {
    try {
      outcome.safetyBackup = await backupNewDatabase(heroku, facts, plan, created, context)
    } catch (error) {
      outcome.changes.push(`The backup of ${created.name} did not succeed (${(error as Error).message}): capture one with \`heroku pg:backups:capture ${created.name} --app ${facts.app}\`.`)
    }
  }
  outcome.undo.push(`heroku pg:promote ${facts.database.name} --app ${facts.app}`)
  return outcome
}
