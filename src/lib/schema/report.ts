import {color} from '@heroku-cli/color'
import type {Check} from '../checks.js'
import type {SchemaCheck} from './gate.js'

export interface SchemaChoices {
  target: number
  require: boolean
  acceptRisk: boolean
  withMigrations: boolean
}

const blocks = (check: SchemaCheck) => check.findings.filter(f => f.level === 'block')

// The gate as one line among the rollback's checks: a block fails it unless a way forward was chosen.
export function schemaCheckLine(check: SchemaCheck, choices: SchemaChoices): Check {
  const name = 'schema'
  const from = check.from ? ` (read from ${check.from === 'git' ? 'the git repository' : 'its slug'})` : ''
  switch (check.verdict) {
    case 'not applicable': return {name, outcome: 'skipped', detail: `Not checked: ${check.reason}.`}
    case 'unknown': return {
      name, outcome: choices.require ? 'failed' : 'warning',
      detail: `UNKNOWN whether v${choices.target}'s code runs on today's schema: ${check.reason}.${choices.require ? ' --require-schema-check refuses to go on.' : ''}`,
    }
    case 'compatible': return {name, outcome: 'passed', detail: `v${choices.target}'s Prisma schema${from} matches the database.`}
    case 'warnings': return {name, outcome: 'warning', detail: `v${choices.target}'s Prisma schema${from} fits the database, with ${check.findings.length} point(s) to review.`}
    case 'blocked': {
      const count = `${blocks(check).length} incompatibilit${blocks(check).length === 1 ? 'y' : 'ies'}`
      if (choices.withMigrations) return {name, outcome: 'passed', detail: `v${choices.target}'s code needs the schema before ${check.migrationsSince.join(', ')}: reverted first (--with-migrations), ${count} resolved.`}
      if (choices.acceptRisk) return {name, outcome: 'warning', detail: `v${choices.target}'s code does NOT fit today's schema (${count}); going on anyway: --accept-schema-risk.`}
      return {name, outcome: 'failed', detail: `v${choices.target}'s code does not fit today's schema: ${count}.`}
    }
  }
}

// The findings under the checks, each with the migration that made the change.
export function renderSchema(check: SchemaCheck): string[] {
  if (check.findings.length === 0 && check.floor === undefined) return []
  const out = ['Schema findings:']
  for (const finding of check.findings) {
    const mark = finding.level === 'block' ? color.red('BLOCK') : color.yellow('WARN ')
    out.push(`  ${mark} ${finding.message}${finding.migration ? ` [${finding.migration}]` : ''}`)
  }
  if (check.floor) out.push(`  Rollback floor: v${check.floor.version} (the oldest release whose code fits today's schema).`)
  else if (check.floor === null) out.push('  Rollback floor: none among the listed releases.')
  return [...out, '']
}

// What the engineer must not miss when the rollback goes on.
export function schemaWarnings(check: SchemaCheck | undefined, choices: SchemaChoices): string[] {
  if (check?.verdict === 'unknown' && !choices.require) {
    return [`Whether v${choices.target}'s code runs on today's database schema is UNKNOWN: ${check.reason}. Pass --require-schema-check to refuse in this case.`]
  }
  if (check?.verdict === 'blocked' && choices.acceptRisk && !choices.withMigrations) {
    return [`v${choices.target}'s code does not fit today's database schema; rolling back anyway (--accept-schema-risk). Expect errors such as Prisma P2022 until the schema matches.`]
  }
  return []
}

// Why the rollback is refused, with the three ways forward.
export function blockedMessage(check: SchemaCheck, app: string, target: number): string {
  const first = blocks(check)[0]
  const ways = [
    check.floor ? `roll back to v${check.floor.version} or newer (\`heroku safe-rollback v${check.floor.version} --app ${app}\`)` : undefined,
    `revert ${check.migrationsSince.length === 1 ? 'the migration' : `the ${check.migrationsSince.length} migrations`} with the rollback (--with-migrations)`,
    'or go on anyway (--accept-schema-risk)',
  ].filter(Boolean)
  return `v${target}'s code cannot run on today's schema: ${first.message}${first.migration ? ` (${first.migration})` : ''}${blocks(check).length > 1 ? `, and ${blocks(check).length - 1} more` : ''}. Ways forward: ${ways.join(', ')}.`
}

export const schemaJson = (check: SchemaCheck, choices: SchemaChoices) => ({
  verdict: check.verdict,
  ...(check.reason ? {reason: check.reason} : {}),
  from: check.from ?? null,
  findings: check.findings,
  floor: check.floor ?? null,
  migrationsSince: check.migrationsSince,
  acceptedRisk: check.verdict === 'blocked' && choices.acceptRisk && !choices.withMigrations,
})
