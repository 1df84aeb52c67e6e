import type {Api} from '../api/client.js'
import type {Release} from '../api/releases.js'
import {backupGate, type GateResult, planCapture} from '../backups/gate.js'
import type {Check} from '../checks.js'
import type {Plan} from '../plan.js'
import {quieted} from '../platform/steps.js'
import {type Prompts, prompts} from '../prompts.js'
import type {Planned} from '../runner/plan.js'
import {schemaCheckLine, type SchemaChoices} from '../schema/report.js'
import type {SchemaCheck} from '../schema/gate.js'
import {fingerprintOf} from '../migrations/history.js'
import {type DownPlan, planDown} from '../migrations/plan.js'
import {type CoupledDown, gatherCoupledDown, withRevertedMigrations} from './coupled.js'
import {gatherRollback} from './gather.js'
import {type WatchChoice, watching, watchRerun} from '../health/plan.js'
import {watchRollback} from './watch.js'
import {planRollback, type RollbackInputs, type RollbackPlan} from './plan.js'

// safe-rollback: gather (the releases, backups, schema gate and, with --with-migrations, the down to
// run first), the person's choices (the release picker, a backup to capture), then the pure plan.

export interface RollbackInput {
  app: string
  releaseRef?: string
  cwd: string
  maxBackupAge: string
  maxBackupAgeMs: number
  waitTimeout: string
  waitTimeoutMs: number
  maintenance: boolean
  capture: boolean
  skipBackupCheck: boolean
  waitForPending: boolean
  requireSchemaCheck: boolean
  acceptSchemaRisk: boolean
  withMigrations: boolean
  allowDataLoss: boolean
  dryRun: boolean
  // The health watch after the rollback; none with --skip-health-check.
  watch?: WatchChoice
}

export interface RollbackFacts {
  inputs: RollbackInputs
  target: Release
  inMaintenance: boolean
  schema?: SchemaCheck
  down?: CoupledDown
  gate: GateResult
}

export interface SafeRollbackPlan extends Plan {
  input: RollbackInput
  facts: RollbackFacts
  // What the rollback undoes and cannot undo, as the preview shows it.
  preview: RollbackPlan
  // With --with-migrations, the revert run first (migrate:down's own plan).
  down?: DownPlan
  choices: SchemaChoices
}

export async function gatherSafeRollback(api: Api, input: RollbackInput, ask: Prompts = prompts): Promise<RollbackFacts> {
  const {app} = input
  const gathered = await gatherRollback(api, app, {
    releaseRef: input.releaseRef, cwd: input.cwd, maxBackupAgeMs: input.skipBackupCheck ? undefined : input.maxBackupAgeMs,
    maintenance: input.maintenance, waitForPending: input.waitForPending, waitTimeoutMs: input.waitTimeoutMs, schemaGate: true,
  }, ask)
  const down = input.withMigrations ? await gatherCoupledDown(api, app, gathered.schema, {cwd: input.cwd, allowDataLoss: input.allowDataLoss, acceptSchemaRisk: input.acceptSchemaRisk, dryRun: input.dryRun}) : undefined
  const gate = await backupGate(gathered.backups ?? [], {maxAgeMs: input.maxBackupAgeMs, capture: input.capture, skip: input.skipBackupCheck, dryRun: input.dryRun}, ask)
  return {inputs: gathered.inputs, target: gathered.target, inMaintenance: gathered.inMaintenance, schema: gathered.schema, down, gate}
}

export function planSafeRollback(facts: RollbackFacts, input: RollbackInput): SafeRollbackPlan {
  const {app} = input
  const {target, schema, gate} = facts
  const down = facts.down && planDown(facts.down.facts)
  const preview = down ? withRevertedMigrations(planRollback(facts.inputs), down) : planRollback(facts.inputs)
  const choices: SchemaChoices = {target: target.version, require: input.requireSchemaCheck, acceptRisk: input.acceptSchemaRisk, withMigrations: down !== undefined}
  const checks: Check[] = [
    ...(down?.blocked ? [{name: 'migrations', outcome: 'failed', detail: `reverting the migrations first is refused by the ${down.checks.filter(c => c.outcome === 'failed').map(c => c.name).join(', ')} check(s): see above.`} as const] : []),
    {name: 'release', outcome: 'passed', detail: `v${target.version} succeeded and is eligible for rollback.`},
    gate.check,
    ...(schema ? [schemaCheckLine(schema, choices)] : []),
    ...(watching(input.watch) && input.watch.onUnhealthy === 'undo' && down ? [{name: 'on-unhealthy', outcome: 'failed', detail: `--on-unhealthy undo cannot be combined with --with-migrations: rolling back to v${preview.current.version} again would put its code on the reverted schema. Leave it out (the default, stop, says the exact command), or revert the migrations apart with migrate:down.`} as const] : []),
  ]
  const rollback: Planned = {id: 'rollback', kind: 'rollback', app, current: preview.current.version, target: {id: target.id, version: target.version}, coupled: down !== undefined, ...(down ? {needs: ['revert']} : {})}
  // With --with-migrations, maintenance is on around the revert and the rollback, whatever the flag says.
  const maintenance = (input.maintenance || down !== undefined) && !facts.inMaintenance
  const coupled = facts.down
  const revert: Planned[] = down && coupled ? [{
    id: 'revert', kind: 'revert', app, database: {configVar: coupled.database.configVar, label: coupled.database.label, schema: coupled.database.schema},
    plan: down, history: fingerprintOf(coupled.history), compensate: Object.fromEntries(coupled.sql),
  }] : []
  const reverting = down ? ` after reverting ${down.steps.map(s => s.migration).join(', ')}` : ''
  return {
    app, input, facts, preview, down, choices, checks, timeoutMs: input.waitTimeoutMs,
    what: `roll back to v${target.version}${reverting}`,
    steps: watchRollback(app, preview.current, watching(input.watch) ? input.watch : undefined, [...gate.capture.map(planCapture), ...quieted(app, {maintenance, workers: []}, [...revert, rollback])]),
    confirm: `This rolls ${app} back to v${target.version}${reverting}, undoing ${preview.undone.length} release(s).`,
    rerun: [
      'heroku', 'safe-rollback', `v${target.version}`, '--app', app,
      ...(input.maintenance ? ['--maintenance'] : []), ...(input.withMigrations ? ['--with-migrations'] : []), ...(input.allowDataLoss ? ['--allow-data-loss'] : []),
      ...(input.acceptSchemaRisk ? ['--accept-schema-risk'] : []), ...(input.requireSchemaCheck ? ['--require-schema-check'] : []),
      ...(input.skipBackupCheck ? ['--skip-backup-check'] : []), ...(input.capture ? ['--capture-backup'] : []),
      ...(input.maxBackupAge === '24h' ? [] : ['--max-backup-age', input.maxBackupAge]), ...(input.waitTimeout === '5m' ? [] : ['--wait-timeout', input.waitTimeout]),
      ...watchRerun(input.watch), '--confirm', app,
    ],
  }
}
