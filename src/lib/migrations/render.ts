import {checksSection, stepList} from '../render/index.js'
import type {Step} from '../runner/step.js'
import type {DownPlan} from './plan.js'
import type {View} from '../plan.js'
import {runJson} from '../runner/report.js'
import type {MigrateDownPlan} from './down.js'
import {describeWrites, type WriteResult} from './generate/write.js'
import type {ApplyResult} from './steps.js'

const indent = (text: string, spaces: number) => text.split('\n').map(line => `${' '.repeat(spaces)}${line}`).join('\n')

// The plan as a person reads it: each migration with its SQL, then each check with its result.
export function describePlan(plan: DownPlan, steps: Step<any>[]): string {
  const lines = [
    `Revert ${plan.steps.length} migration(s) on ${plan.database} of ${plan.app}`,
    `Migrations folder: ${plan.migrationsDir}`,
    '',
  ]
  for (const [index, step] of plan.steps.entries()) {
    lines.push(`${index + 1}. ${step.migration}  (${step.source})`)
    if (step.command) lines.push(`   generated with: ${step.command}`)
    const sql = step.statements.map(s => s.endsWith(';') ? s : `${s};`).join('\n')
    lines.push(indent(sql || '(no down SQL: see the down-sql check below)', 6))
  }
  lines.push(`Afterwards: ${plan.keep ? `${plan.keep} is the newest applied migration.` : 'no migration is applied.'}`, '', ...checksSection(plan.checks))
  const statementTimeout = plan.settings.statementTimeout ?? 'the database\'s default'
  lines.push('', `All in one transaction holding Prisma's migration lock; lock_timeout ${plan.settings.lockTimeout}, statement_timeout ${statementTimeout}.`, `Bookkeeping: ${plan.bookkeeping}`)
  if (steps.length > 0) lines.push('', 'Steps:', ...stepList(steps))
  return lines.join('\n')
}

export function describeResult(plan: DownPlan, result: ApplyResult): string {
  const history = result.history.kept
    ? `Their ${result.deletedRows.length} _prisma_migrations row(s) were deleted; copies are in ${result.history.where}.`
    : `Their ${result.deletedRows.length} _prisma_migrations row(s) were deleted; no copy could be kept in the database (${result.history.reason}): run with --json to keep them.`
  return [
    `Reverted ${result.reverted.join(', ')} on ${plan.database} of ${plan.app} in ${result.durationMs} ms, in one transaction.`,
    history,
    plan.keep ? `${plan.keep} is now the newest applied migration; \`prisma migrate deploy\` would apply the reverted ones again.` : 'No migration is applied now.',
    plan.note,
  ].join('\n')
}

// migrate:down as the guarded skeleton shows it.
export const downView: View<MigrateDownPlan> = {
  preview: ({down, written}, steps) => describePlan(down, steps) + writesText(written),
  // With --json the refusal still carries the plan, so that scripts can see which check failed.
  refusal: (_plan, failed) => `Refused by the ${failed.map(c => c.name).join(', ')} check${failed.length > 1 ? 's' : ''}: see the checks above.`,
  nothingToDo: () => 'Nothing to revert.',
  dryRun: ({written}, command) => `\nDry run: nothing was changed${written?.some(w => w.written) ? ' on the app (only the down.sql files --write asked for were written)' : ''}. To do exactly this: ${command}`,
  closing: ({down}, outcome) => `\n${describeResult(down, outcome.result<ApplyResult>('revert')!)}`,
  json: ({down, written}, _steps, outcome) => ({
    plan: down, dryRun: !outcome, applied: outcome?.status === 'succeeded', written,
    result: outcome?.result<ApplyResult>('revert'), run: outcome ? runJson(outcome) : undefined,
  }),
}

const writesText = (written?: WriteResult[]) =>
  written ? `\n${written.length > 0 ? describeWrites(written).join('\n') : '--write: no down.sql was generated, so none was written.'}` : ''
