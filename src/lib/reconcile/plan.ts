import {gateCheck, planCapture} from '../backups/gate.js'
import {blocking} from '../checks.js'
import type {Plan} from '../plan.js'
import type {Planned} from '../runner/plan.js'
import {type ReconcileFacts, reconcileChecks, type ReconcileInput} from './checks.js'
import type {ReconcileSummary} from './comparison.js'
import {plural, rows} from './words.js'

// The pure planner of db:reconcile: from what was gathered and compared, the checks, and with --apply
// the steps as data: a fresh backup of DATABASE when the gate asks for one, then replay.sql, named by its
// folder, on DATABASE, named by its config var.

export interface ReconcilePlan extends Plan {
  // Undefined when a check refused before the comparison.
  summary?: ReconcileSummary
  // DATABASE as the user named it (--to), its label, and its config var.
  database: {given: string, label: string, configVar: string}
  old: string
  apply: boolean
}

export function describeConfirmation(summary: ReconcileSummary, database: string): string {
  const {inserted, updated, conflicts} = summary.totals
  const conflicted = conflicts === 0 ? '' : summary.prefer === 'old' ? `, and the ${plural(conflicts, 'conflict')} take OLD's values (--prefer old)` : `; ${plural(conflicts, 'conflict')} stay${conflicts === 1 ? 's' : ''} commented out`
  return `This runs replay.sql on ${database} of ${summary.app}, in one transaction: ${rows(inserted)} written and ${rows(updated)} updated in OLD after the recovery point${conflicted}.`
}

export function planReconcile(facts: ReconcileFacts, summary: ReconcileSummary | undefined, input: ReconcileInput): ReconcilePlan {
  const {app} = input
  const {old, current} = facts
  const checks = reconcileChecks(facts, input)
  const capture = input.apply ? gateCheck(facts.backups ?? [], input).capture : []
  const steps: Planned[] = summary && blocking(checks).length === 0
    ? [...capture.map(planCapture), {id: 'replay', kind: 'replay', app, folder: summary.folder, database: current.configVar, label: current.label}]
    : []
  return {
    app, checks, steps, summary, apply: input.apply, old: old.label,
    database: {given: current.given, label: current.label, configVar: current.configVar},
    what: `reconcile ${current.label} with ${old.label}`,
    confirm: summary ? describeConfirmation(summary, current.label) : '',
    timeoutMs: 60 * 60_000,
    // A comparison made again, into a folder of its own, then applied.
    rerun: [
      'heroku', 'db:reconcile', '--app', app, '--from', input.from, '--to', input.to,
      ...(input.since ? ['--since', input.since] : []), ...(input.tables ? ['--tables', input.tables.join(',')] : []),
      ...(input.exclude ? ['--exclude', input.exclude.join(',')] : []), ...(input.prefer ? ['--prefer', input.prefer] : []),
      '--apply', ...(input.maxBackupAge === '24h' ? [] : ['--max-backup-age', input.maxBackupAge]),
      ...(input.capture ? ['--capture-backup'] : []), ...(input.skip ? ['--skip-backup-check'] : []), '--confirm', app,
    ],
  }
}
