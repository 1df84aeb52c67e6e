import type {Check} from '../checks.js'
import {runJson} from '../runner/report.js'
import type {RunOutcome} from '../runner/runner.js'
import type {RolledBack} from './steps.js'
import type {RollbackPlan} from './plan.js'

// What maintenance mode is now, read from what the run did.
function maintenanceOf(outcome: RunOutcome | undefined, app: string): string {
  const on = outcome?.steps.find(s => s.id === 'maintenance-on')
  if (!on || on.state === 'not run' || on.state === 'failed') return 'not used'
  const off = outcome!.steps.find(s => s.id === 'maintenance-off')
  if (on.state === 'undone' || off?.state === 'done') return 'turned off again'
  if (outcome!.steps.some(s => s.state === 'left running')) return `left on while the release phase runs: \`heroku recovery:resume ${outcome!.run}\` turns it off once it has ended`
  return `left on: \`heroku maintenance:off --app ${app}\` turns it off`
}

// The one JSON document `safe-rollback --json` prints, on success and on failure.
export function rollbackReport(plan: RollbackPlan, checks: Check[], dryRun: boolean, outcome?: RunOutcome, schema?: unknown) {
  const rolledBack = outcome?.result<RolledBack>('rollback')
  return {
    app: plan.app,
    dryRun,
    target: plan.target,
    current: plan.current,
    releasesUndone: plan.undone,
    configChanges: plan.config,
    checks,
    warnings: plan.warnings.map(w => w.message),
    schema: schema ?? null,
    newRelease: rolledBack ? {id: rolledBack.release.id, version: rolledBack.release.version, status: rolledBack.release.status} : null,
    dynos: rolledBack?.dynos ?? null,
    maintenance: dryRun ? null : maintenanceOf(outcome, plan.app),
    undo: plan.undo,
    run: outcome ? runJson(outcome) : null,
  }
}
