import {Addon, attach, createAddon} from '../api/addons.js'
import {Api, path, statusOf} from '../api/client.js'
import type {BuildersOf, Planned, StepDataOf} from '../runner/plan.js'
import type {Ref} from '../runner/step.js'
import {type SourceDatabase, waitUntilAvailable} from './point-in-time.js'
import {promoteSteps} from './promote.js'
import {recoverySteps, where} from './steps.js'

// Heroku Postgres Advanced (the Fir-era tier, plans `advanced*` and `performance*`) rolls back the way
// `heroku data:pg:fork DATABASE --rollback-to TIME` does (commands/data/pg/fork.js in the CLI): the same
// `POST /apps/{app}/addons`, with config `{rollback, 'recovery-time', level}` instead of `{rollback, to}`;
// its window and compute level come from `GET /data/postgres/v1/{id}/info`, and its readiness from
// `GET /data/postgres/v1/{id}/wait_status` (data:pg:wait), both on the Data API host. The rest of a
// point-in-time recovery is the same: checks, the fence, the promote and its undo. What Advanced does not
// have is left out and said: connection pooling, pg:backups of the new database, a follower to unfollow.

declare module '../runner/plan.js' {
  interface StepKinds {
    // The rollback database of an Advanced database (for the promote, or a scratch copy), at its leader's compute level.
    'fork-database': {app: string, source: SourceDatabase, at: string, level?: string, scratch: boolean, keep: boolean, knownAddons: string[]}
    'promote-fork': {app: string, created: Ref<Addon>, old: string, as: string}
  }
}

export const isAdvancedPlan = (plan: string) => /^(advanced|performance)/.test(plan.split(':')[1] ?? '')

// What the Data API says of an Advanced database that a recovery needs (InfoResponse in the CLI's lib/data/types).
export interface AdvancedInfo {
  features?: {rollback?: {enabled: boolean, earliest_time: string | null, latest_time: string | null}}
  pools?: {name: string, expected_level: string}[]
}

export interface AdvancedFacts {
  earliest: Date | null
  level?: string
}

export async function readAdvanced(api: Api, addonId: string): Promise<AdvancedFacts> {
  const info = await api.get<AdvancedInfo>(path`/data/postgres/v1/${addonId}/info`, {data: true})
  const rollback = info.features?.rollback
  return {
    earliest: rollback?.enabled && rollback.earliest_time ? new Date(rollback.earliest_time) : null,
    level: info.pools?.find(p => p.name === 'leader')?.expected_level,
  }
}

// `YYYY-MM-DDTHH:MM:SS` in UTC, as fork.js formats the time it sends.
export const recoveryTime = (at: Date) => at.toISOString().slice(0, 19)

export function createFork(api: Api, app: string, source: SourceDatabase, at: Date, level?: string): Promise<Addon> {
  return createAddon(api, app, {plan: source.plan, config: {rollback: source.name, 'recovery-time': recoveryTime(at), ...(level ? {level} : {})}})
}

async function forkWaiting(api: Api, addon: Addon): Promise<{waiting: boolean, message: string}> {
  try {
    const status = await api.get<{waiting: boolean, message: string | null}>(path`/data/postgres/v1/${addon.id}/wait_status`, {data: true})
    return {waiting: status.waiting, message: status.message ?? (status.waiting ? 'waiting' : 'available')}
  } catch (error) {
    // data:pg:wait treats a database the Data API does not know yet as one still provisioning.
    if (statusOf(error) === 404) return {waiting: true, message: 'Waiting to provision...'}
    throw error
  }
}

export const advancedSteps: BuildersOf<'fork-database' | 'promote-fork'> = {
  // The point-in-time path's create-database (its read-back, its undo), with the Advanced request and wait.
  'fork-database'({level, ...data}) {
    const {app, source, at, scratch} = data
    const created = recoverySteps['create-database']({...data, kind: 'create-database'})
    return {
      ...created,
      title: `Fork ${where(source)} as of ${at} into a new ${scratch ? 'scratch ' : ''}${source.plan} database${level ? ` at level ${level}` : ''}, as \`heroku data:pg:fork --rollback-to\` does`,
      apply: ({api}) => createFork(api, app, source, new Date(at), level),
      then: ({api, timeoutMs, status}, addon: Addon) => waitUntilAvailable(api, addon, timeoutMs, status, forkWaiting),
    }
  },

  // pg:promote's attachment, after the Advanced readiness check (pg:promote's own reads the v11 wait_status).
  'promote-fork'({app, created, old, as}) {
    const promote = promoteSteps['promote-database']({kind: 'promote-database', app, created, old, as})
    return {
      ...promote,
      async apply(context) {
        const addon = context.result(created)
        const {waiting, message} = await forkWaiting(context.api, addon)
        if (waiting) throw new Error(`${addon.name} cannot be promoted while in state: ${message}`)
        await attach(context.api, app, addon.name, {name: as, namespace: null})
        return addon.name
      },
    }
  },
}

// The point-in-time steps, for an Advanced database: forked and promoted the Advanced way; no pooler to
// move (Advanced has no connection pooling), no follower check and no pg:backups capture of the new
// database (both are Data API v11 calls for the other tiers; Advanced has continuous protection).
export function forAdvanced(steps: Planned[], level?: string): Planned[] {
  return steps.filter(s => s.kind !== 'attach-pooler' && s.kind !== 'follower-check' && s.id !== 'backup-new').map((s): Planned => {
    if (s.kind === 'create-database' && s.at) {
      const {kind: _kind, at, ...rest} = s as Planned<StepDataOf<'create-database'>>
      return {...rest, kind: 'fork-database', at: at!, ...(level ? {level} : {})}
    }
    if (s.kind === 'promote-database') {
      const {kind: _kind, ...rest} = s as Planned<StepDataOf<'promote-database'>>
      return {...rest, kind: 'promote-fork'}
    }
    return s
  })
}

export const forTier = (facts: {database: {advanced: boolean}, fork?: {level?: string}}, steps: Planned[]) =>
  facts.database.advanced ? forAdvanced(steps, facts.fork?.level) : steps

export const ADVANCED_POOLING = 'Advanced databases have no connection pooling (Heroku\'s PgBouncer attachments): there was nothing to re-attach.'

export const advancedWarnings = (name: string, level?: string) => [
  `${name} is an Advanced-tier database: it is forked as \`heroku data:pg:fork --rollback-to\` does${level ? `, at its leader's level ${level}` : ''}. Advanced has no connection pooling, and no backup of the new database is captured (pg:backups is for the other tiers; continuous protection covers it).`,
]
