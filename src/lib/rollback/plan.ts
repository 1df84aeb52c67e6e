import type {Release} from '../api/releases.js'
import {ageOf, formatDuration} from '../duration.js'
import type {DeployedMigrations} from './migrations.js'

export interface ReleaseSummary {
  version: number
  id: string
  description: string
  status: string
  user: string | null
  createdAt: string
  age: string
  commit?: string | null
}

export interface Warning {
  kind: 'addons' | 'database' | 'release-command' | 'migrations'
  message: string
  loud?: boolean
}

export interface RollbackInputs {
  app: string
  current: Release
  target: Release
  // Every release newer than the target, newest first: what the rollback undoes.
  undone: Release[]
  currentConfig: Record<string, string>
  targetConfig: Record<string, string>
  targetCommit: string | null
  currentCommit: string | null
  releaseCommand?: string
  migrations?: DeployedMigrations
  now?: number
}

export interface RollbackPlan {
  app: string
  current: ReleaseSummary
  target: ReleaseSummary
  undone: ReleaseSummary[]
  // Config var names only: values are secrets.
  config: {restored: string[], removed: string[], changed: string[]}
  warnings: Warning[]
  undo: string
}

export const summarize = (release: Release, now = Date.now(), commit?: string | null): ReleaseSummary => ({
  version: release.version,
  id: release.id,
  description: release.description,
  status: release.status,
  user: release.user?.email ?? null,
  createdAt: release.created_at,
  age: formatDuration(ageOf(release.created_at, now)),
  ...(commit === undefined ? {} : {commit}),
})

const DATABASE_VAR = /^(DATABASE_URL|HEROKU_POSTGRESQL_\w+_URL|\w+_DATABASE_URL)$/
const ATTACHMENT_CHANGE = /^(Attach|Detach|Promote)\b|add-?on/i
const DATABASE_CHANGE = /^(Attach|Detach)\s+(DATABASE|HEROKU_POSTGRESQL_\w+)\b|promote/i

export function diffConfig(current: Record<string, string>, target: Record<string, string>) {
  const names = [...new Set([...Object.keys(current), ...Object.keys(target)])].sort()
  return {
    restored: names.filter(name => !(name in current) && name in target),
    removed: names.filter(name => name in current && !(name in target)),
    changed: names.filter(name => name in current && name in target && current[name] !== target[name]),
  }
}

function addonWarnings(inputs: RollbackInputs): Warning[] {
  const before = new Set(inputs.target.addon_plan_names ?? [])
  const after = new Set(inputs.current.addon_plan_names ?? [])
  const added = [...after].filter(name => !before.has(name))
  const removed = [...before].filter(name => !after.has(name))
  const attachmentReleases = inputs.undone.filter(r => ATTACHMENT_CHANGE.test(r.description)).map(r => `v${r.version} ${r.description}`)
  const details = [
    added.length > 0 ? `added since v${inputs.target.version}: ${added.join(', ')}` : '',
    removed.length > 0 ? `removed since v${inputs.target.version}: ${removed.join(', ')}` : '',
    attachmentReleases.length > 0 ? `attachment changes: ${attachmentReleases.join('; ')}` : '',
  ].filter(Boolean)
  return [{
    kind: 'addons',
    message: `A rollback restores code and config vars; it does not add, remove or re-attach add-ons${details.length > 0 ? ` (${details.join('; ')})` : ''}.`,
  }]
}

function databaseWarnings(inputs: RollbackInputs, config: RollbackPlan['config']): Warning[] {
  const lost = config.removed.filter(name => DATABASE_VAR.test(name))
  const repointed = [...config.changed, ...config.restored].filter(name => DATABASE_VAR.test(name))
  const changes = inputs.undone.filter(r => DATABASE_CHANGE.test(r.description)).map(r => `v${r.version} ${r.description}`)
  if (lost.length === 0 && repointed.length === 0 && changes.length === 0) return []
  const parts = [
    lost.length > 0 ? `the app would lose ${lost.join(', ')} (no database connection)` : '',
    repointed.length > 0 ? `${repointed.join(', ')} would point at a different database than now` : '',
    changes.length > 0 ? `the rollback crosses database attachment changes (${changes.join('; ')})` : '',
  ].filter(Boolean)
  return [{kind: 'database', loud: true, message: `DATABASE WARNING: ${parts.join('; ')}. Check with \`heroku pg:info\` afterwards; \`heroku pg:promote\` re-attaches a database as DATABASE_URL.`}]
}

function migrationWarnings(inputs: RollbackInputs): Warning[] {
  const warnings: Warning[] = []
  if (inputs.releaseCommand) {
    warnings.push({kind: 'release-command', message: `The release command (${inputs.releaseCommand}) runs again for v${inputs.target.version}; it undoes nothing: migrations applied since stay applied.`})
  }
  const migrations = inputs.migrations
  if (migrations?.unknown) {
    warnings.push({kind: 'migrations', message: `Prisma migrations deployed since v${inputs.target.version} are unknown: ${migrations.unknown}.`})
  } else if (migrations && migrations.names.length > 0) {
    const n = migrations.names.length
    warnings.push({
      kind: 'migrations',
      loud: true,
      message: `${n} Prisma migration${n === 1 ? '' : 's'} deployed since v${inputs.target.version} stay${n === 1 ? 's' : ''} applied: ${migrations.names.join(', ')}. The old code may not work with the newer schema; revert with \`heroku migrate:down --steps ${n} --app ${inputs.app}\`.`,
    })
  }
  return warnings
}

// What rolling back to the target does and does not undo: pure, so that --dry-run, --json and the
// tests all see the same plan.
export function planRollback(inputs: RollbackInputs): RollbackPlan {
  const now = inputs.now ?? Date.now()
  const config = diffConfig(inputs.currentConfig, inputs.targetConfig)
  return {
    app: inputs.app,
    current: summarize(inputs.current, now, inputs.currentCommit),
    target: summarize(inputs.target, now, inputs.targetCommit),
    undone: inputs.undone.map(r => summarize(r, now)),
    config,
    warnings: [...databaseWarnings(inputs, config), ...migrationWarnings(inputs), ...addonWarnings(inputs)],
    undo: `heroku safe-rollback v${inputs.current.version} --app ${inputs.app}`,
  }
}
