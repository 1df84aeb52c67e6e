import type {Touched} from './guard.js'
import type {Verification} from './verify.js'

// What a recovery did, for the summary and `--json`.
export interface RecoveryOutcome {
  recovered: boolean
  durationMs: number
  // The add-on that holds the recovered data.
  database?: string
  restore?: string
  safetyBackup?: string
  previous?: {addon: string, alias?: string}
  scratch?: {addon: string, destroyed: boolean}
  verification?: Verification
  touched: Touched
  changes: string[]
  undo: string[]
}
