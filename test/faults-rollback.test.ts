import {rollbackFlow} from './support/flows.js'
import {matrix} from './support/matrix.js'

// The fault matrix (support/matrix.ts) on rollback: a file of its own, so that the three run side by side.
matrix(rollbackFlow)
