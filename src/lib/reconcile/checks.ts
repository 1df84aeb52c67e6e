import {type BackupState, gateCheck} from '../backups/gate.js'
import type {Check} from '../checks.js'
import type {AppDatabase} from '../postgres/connect.js'
import type {Base} from './base.js'
import type {Prefer} from './folder.js'

// What db:reconcile knows before it compares, and the checks on it: each refuses before the comparison
// writes its folder, and before anything is applied.

export interface ReconcileDatabase extends AppDatabase {
  // The name the user gave: HEROKU_POSTGRESQL_OLIVE, DATABASE_URL.
  given: string
  addon?: {id: string, name: string}
}

export interface ReconcileInput {
  app: string
  from: string
  to: string
  // The recovery point, when given (ISO 8601).
  since?: string
  tables?: string[]
  exclude?: string[]
  out: string
  prefer?: Prefer
  // --apply, and not --dry-run.
  apply: boolean
  // The backup gate of --apply.
  maxAgeMs: number
  maxBackupAge: string
  capture: boolean
  skip: boolean
}

export interface ReconcileFacts {
  old: ReconcileDatabase
  current: ReconcileDatabase
  // The base db:recover recorded in DATABASE: the comparison is three-way with it, two-way without.
  base?: Base
  // DATABASE's backups, read with --apply.
  backups?: BackupState[]
}

// The base decides: a --since that is not its recovery point; without one, an --apply that nobody said
// which side wins for. With --apply, a recent backup of DATABASE.
export function reconcileChecks({base, current, backups}: ReconcileFacts, input: Omit<ReconcileInput, 'app' | 'from' | 'to' | 'out'>): Check[] {
  const checks: Check[] = []
  if (base && input.since && input.since !== base.recoveryPoint) {
    checks.push({name: 'since', outcome: 'failed', detail: `--since ${input.since} is not the recovery point of the base db:recover recorded in ${current.label} (run ${base.run}: ${base.recoveryPoint}): leave --since out, or give that time.`})
  }
  if (!base && input.apply && !input.prefer) {
    checks.push({name: 'base', outcome: 'failed', detail: `${current.label} holds no base recorded by db:recover, so the comparison is two-way and cannot tell which side changed a row: --apply could overwrite writes made to it after the promote, or bring back rows deleted from it since. Compare without --apply and read the folder, then say which side wins with --prefer old|current.`})
  }
  if (input.apply) checks.push(gateCheck(backups ?? [], input).check)
  return checks
}
