import type {Check} from '../checks.js'
import type {RollbackPlan} from './plan.js'
import type {RollbackOutcome} from './execute.js'

// The one JSON document `safe-rollback --json` prints.
export function rollbackReport(plan: RollbackPlan, checks: Check[], dryRun: boolean, outcome?: RollbackOutcome) {
  return {
    app: plan.app,
    dryRun,
    target: plan.target,
    current: plan.current,
    releasesUndone: plan.undone,
    configChanges: plan.config,
    checks,
    warnings: plan.warnings.map(w => w.message),
    newRelease: outcome?.release ?? null,
    dynos: outcome?.dynos ?? null,
    maintenance: outcome?.maintenance ?? null,
    undo: plan.undo,
  }
}
