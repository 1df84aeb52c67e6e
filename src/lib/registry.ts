import {backupKinds} from './backups/actions.js'
import {fileKinds} from './files/actions.js'
import {migrationKinds} from './migrations/actions.js'
import {platformKinds} from './platform/actions.js'
import {Actions} from './runner/actions.js'

// The composition root: every area's kinds of put-back and wait, for the runner and recovery:resume.
// The runner itself knows none of them.
export const actions = new Actions({...platformKinds, ...backupKinds, ...migrationKinds, ...fileKinds})
