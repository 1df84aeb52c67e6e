import {backupKinds} from './backups/actions.js'
import {backupSteps} from './backups/gate.js'
import {estateKinds} from './estate/actions.js'
import {estateSteps, estateTrust} from './estate/steps.js'
import {fileKinds} from './files/actions.js'
import {protectSteps} from './files/protect.js'
import {healthSteps} from './health/kinds.js'
import {recoverFileSteps} from './files/steps.js'
import {migrationKinds} from './migrations/actions.js'
import {migrationSteps} from './migrations/steps.js'
import {platformKinds} from './platform/actions.js'
import {platformSteps} from './platform/steps.js'
import {reconcileSteps} from './reconcile/steps.js'
import {advancedSteps} from './recovery/advanced.js'
import {leftoverSteps} from './recovery/leftovers.js'
import {promoteSteps} from './recovery/promote.js'
import {recoverySteps} from './recovery/steps.js'
import {rollbackKinds} from './rollback/actions.js'
import {rollbackSteps} from './rollback/steps.js'
import {undoSteps} from './rollback/undo.js'
import {Actions} from './runner/actions.js'
import {Interpreter} from './runner/plan.js'

// The composition root: every area's kinds of put-back and wait, and every kind of plan step, for the
// runner, recovery:log and recovery:resume. The runner itself knows none of them.
export const actions = new Actions({...platformKinds, ...backupKinds, ...migrationKinds, ...fileKinds, ...rollbackKinds, ...estateKinds})

export const interpreter = new Interpreter({
  ...platformSteps, ...backupSteps, ...protectSteps, ...recoverFileSteps, ...migrationSteps, ...rollbackSteps, ...undoSteps, ...recoverySteps, ...promoteSteps, ...advancedSteps, ...leftoverSteps, ...reconcileSteps, ...healthSteps, ...estateSteps,
}, estateTrust)
