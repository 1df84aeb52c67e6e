import {Addon, createAddon, destroyAddon} from '../api/addons.js'
import type {Heroku} from '../api/heroku.js'
import {formatDuration} from '../duration.js'
import {SafeRollbackError} from '../errors.js'
import type {RecoveryFacts} from './facts.js'
import type {RecoveryOutcome} from './outcome.js'
import type {RecoveryPlan} from './plan.js'
import {createRollbackDatabase, waitUntilAvailable} from './point-in-time.js'
import {ApplyContext, backupUrl, restoreInto} from './restore.js'
import {runVerification} from './verify.js'

// `--drill`: the same recovery into a scratch database, timed and verified, then thrown away.
// A backup that was never restored is not known to work; a drill shows that it does.

async function createScratch(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan): Promise<Addon> {
  if (plan.way === 'backup') return createAddon(heroku, facts.app, {plan: facts.database.plan})
  return createRollbackDatabase(heroku, facts, new Date(plan.target!.at))
}

async function recoverInto(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan, scratch: Addon, context: ApplyContext) {
  context.progress.step(`Waiting for scratch database ${scratch.name}`)
  await waitUntilAvailable(heroku, scratch, context.timeoutMs, context.progress)
  if (plan.way === 'backup') {
    context.progress.step(`Restoring ${plan.backup?.name} into ${scratch.name}`)
    await restoreInto(heroku, scratch.app.name, scratch.id, backupUrl(facts, plan), context)
  }
}

export async function drill(heroku: Heroku, facts: RecoveryFacts, plan: RecoveryPlan, context: ApplyContext): Promise<RecoveryOutcome> {
  const started = Date.now()
  context.progress.step(`Creating a scratch ${facts.database.plan} database`)
  const scratch = await createScratch(heroku, facts, plan)
  const outcome: RecoveryOutcome = {
    recovered: false, durationMs: 0, database: scratch.name, scratch: {addon: scratch.name, destroyed: false},
    touched: {maintenance: false, workers: []}, changes: [], undo: [],
  }
  const untouched = `${facts.database.attachment} (${facts.database.name}) was not touched.`
  try {
    await recoverInto(heroku, facts, plan, scratch, context)
    outcome.durationMs = Date.now() - started
    if (plan.verify) {
      context.progress.step(`Verifying ${scratch.name}`)
      outcome.verification = await runVerification(heroku, facts.app, scratch.name, plan.verify)
      if (!outcome.verification.passed) throw new SafeRollbackError(`--verify failed on the scratch database: ${outcome.verification.detail}.`)
    }
    outcome.recovered = true
  } catch (error) {
    const kept = plan.keep ? `Scratch database ${scratch.name} is kept (--keep).` : `Scratch database ${scratch.name} was destroyed.`
    throw Object.assign(error instanceof SafeRollbackError ? error : new SafeRollbackError((error as Error).message), {state: `${untouched} ${kept}`})
  } finally {
    if (!plan.keep) {
      context.progress.step(`Destroying scratch database ${scratch.name}`)
      await destroyAddon(heroku, scratch)
      outcome.scratch!.destroyed = true
    }
  }
  outcome.changes.push(`Recovered into scratch database ${scratch.name} in ${formatDuration(outcome.durationMs)}. ${untouched}`)
  if (plan.keep) outcome.undo.push(`heroku addons:destroy ${scratch.name} --app ${facts.app} --confirm ${facts.app}`)
  return outcome
}
