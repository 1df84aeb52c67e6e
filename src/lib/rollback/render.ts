import {color} from '@heroku-cli/color'
import type {Check} from '../checks.js'
import {watched, watching} from '../health/plan.js'
import {describeHealth, healthJson, healthWarnings} from '../health/render.js'
import {printable} from '../names.js'
import {describePlan} from '../migrations/render.js'
import type {ApplyResult} from '../migrations/steps.js'
import type {View} from '../plan.js'
import {checksSection, stepList} from '../render/index.js'
import type {RunOutcome} from '../runner/runner.js'
import type {Step} from '../runner/step.js'
import {blockedMessage, renderSchema, schemaJson, schemaWarnings} from '../schema/report.js'
import type {ReleaseSummary, RollbackPlan} from './plan.js'
import {rollbackReport} from './report.js'
import type {SafeRollbackPlan} from './safe.js'
import type {RolledBack} from './steps.js'

const line = (r: ReleaseSummary) => `  ${`v${r.version}`.padEnd(6)} ${printable(r.description).padEnd(44)} ${printable(r.user ?? '').padEnd(24)} ${r.age} ago`

// The preview printed before every rollback and as the whole output of --dry-run.
export function renderPreview(plan: RollbackPlan, checks: Check[], steps: Step<any>[], schemaLines: string[] = []): string {
  const {target, current, config} = plan
  const commit = target.commit ? `commit ${target.commit.slice(0, 7)}, ` : ''
  const out = [
    color.bold(`Rolling back ${color.app(plan.app)} from v${current.version} to v${target.version}`),
    `  Target: v${target.version} ${printable(target.description)} (${commit}${printable(target.user ?? 'unknown author')}, ${target.age} ago)`,
    '',
    `Releases this undoes (${plan.undone.length}, newest first):`,
    ...plan.undone.map(line),
    '',
  ]
  const changes = [
    config.removed.length > 0 ? `  removed:  ${config.removed.map(printable).join(', ')}` : '',
    config.restored.length > 0 ? `  restored: ${config.restored.map(printable).join(', ')}` : '',
    config.changed.length > 0 ? `  changed:  ${config.changed.map(printable).join(', ')}` : '',
  ].filter(Boolean)
  out.push('Config vars the rollback changes (names only):', ...(changes.length > 0 ? changes : ['  none']), '')
  out.push('What a rollback does not undo:')
  for (const warning of plan.warnings) out.push(`  ${warning.loud ? color.red('!!') : ' !'} ${warning.loud ? color.bold(warning.message) : warning.message}`)
  out.push('', ...checksSection(checks))
  out.push('', ...schemaLines, 'Steps:', ...stepList(steps))
  return out.join('\n')
}

// safe-rollback as the guarded skeleton shows it.
export const rollbackView: View<SafeRollbackPlan> = {
  preview: ({preview, down, facts: {schema}, checks}, steps) => [
    ...(down ? [describePlan(down, []), ''] : []),
    renderPreview(preview, checks, steps, schema && renderSchema(schema)),
    '',
  ].join('\n'),
  refusal: ({app, facts: {target, schema}}, failed) =>
    `Rollback blocked: ${failed.map(c => c.name === 'schema' && schema?.verdict === 'blocked' ? blockedMessage(schema, app, target.version) : c.detail).join(' ')}`,
  warnings: ({app, input, facts: {schema, inMaintenance}, choices}) => [
    ...schemaWarnings(schema, choices),
    ...(input.skipBackupCheck ? ['Backups were not checked (--skip-backup-check): if this rollback goes wrong, there may be no recent backup to recover from.'] : []),
    ...(input.maintenance && inMaintenance ? [`${app} is already in maintenance mode: it stays on after the rollback.`] : []),
  ],
  dryRun: (_plan, command) => `Dry run: nothing was changed. To roll back: ${command}`,
  closing: ({app, facts: {target}}, outcome) => {
    const {release, dynos} = outcome.result<RolledBack>('rollback')!
    const health = watched(outcome)
    return [
      `${app} runs v${release.version} (rollback to v${target.version}); ${dynos.length} dyno(s) up.`,
      ...(health ? describeHealth(health, release.version) : []),
      `To undo: ${outcome.undo.join(', then ')}`,
    ].join('\n')
  },
  afterwards: ({app}, outcome) => healthWarnings(app, watched(outcome), outcome.result<RolledBack>('rollback')?.release.version),
  json: ({input, preview, down, facts: {schema}, checks, choices}, _steps, outcome) => ({
    ...rollbackReport(preview, checks, input.dryRun, outcome, schema && schemaJson(schema, choices)),
    ...(down ? {migrations: {plan: down, result: outcome?.result<ApplyResult>('revert') ?? null}} : {}),
    ...(watching(input.watch) ? {health: healthJson(watched(outcome))} : {}),
    ...(watching(input.watch) && input.watch.onUnhealthy === 'undo' ? {undone: undoneJson(outcome)} : {}),
  }),
}

// After `--on-unhealthy undo`: the release the undo made, and the watch after it; null when nothing was undone.
function undoneJson(outcome: RunOutcome | undefined) {
  const undone = outcome?.result<RolledBack>('undo')
  return undone ? {release: `v${undone.release.version}`, health: healthJson(watched(outcome, 'watch-again'))} : null
}
