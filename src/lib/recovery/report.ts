import {formatDuration} from '../duration.js'
import type {RecoveryOutcome} from './outcome.js'
import type {RecoveryPlan} from './plan.js'

// The plan and the outcome as people read them. Nothing here prints secrets: plans and outcomes
// hold names, times and commands, never URLs or credentials.

const MARKS = {passed: '✓', failed: '✗', warning: '!', skipped: '-'}

function headline(plan: RecoveryPlan): string {
  const db = `${plan.database.attachment} (${plan.database.addon}, ${plan.database.plan}) on ${plan.app}`
  const what = plan.drill ? 'Drill: recovering a copy of' : 'Recovering'
  if (plan.way === 'backup') {
    const backup = plan.backup ? `${plan.backup.name}, finished ${plan.backup.finishedAt} (${plan.backup.age} ago), ${plan.backup.size}` : 'a backup'
    return `${what} ${db} from backup ${backup}.`
  }
  return `${what} ${db} as of ${plan.target?.at}: ${plan.target?.reason}.`
}

export function describePlan(plan: RecoveryPlan): string {
  return [
    headline(plan),
    '',
    'Checks:',
    ...plan.checks.map(c => `  ${MARKS[c.outcome]} ${c.name}: ${c.detail}`),
    '',
    'Steps:',
    ...plan.steps.map((step, i) => `  ${i + 1}. ${step}`),
    ...(plan.warnings.length > 0 ? ['', ...plan.warnings.map(w => `Warning: ${w}`)] : []),
  ].join('\n')
}

export function describeOutcome(plan: RecoveryPlan, outcome: RecoveryOutcome): string {
  const lines = [plan.drill ? `Drill done in ${formatDuration(outcome.durationMs)}.` : `Recovered in ${formatDuration(outcome.durationMs)}.`]
  lines.push(...outcome.changes.map(c => `  - ${c}`))
  if (outcome.verification) lines.push(`  - --verify passed: ${outcome.verification.detail}.`)
  if (outcome.safetyBackup) lines.push(plan.way === 'backup' ? `  - Safety backup ${outcome.safetyBackup} holds the data from before the restore.` : `  - Backup ${outcome.safetyBackup} of the new database was captured.`)
  const touched = [
    ...(outcome.touched.maintenance ? ['maintenance mode (on, then off)'] : []),
    ...outcome.touched.workers.map(w => `${w.type} (scaled 0, then back to ${w.quantity})`),
  ]
  if (touched.length > 0) lines.push(`  - Touched during the switch: ${touched.join(', ')}.`)
  if (outcome.undo.length > 0) lines.push('', 'To go back:', ...outcome.undo.map(u => `  ${u}`))
  return lines.join('\n')
}
