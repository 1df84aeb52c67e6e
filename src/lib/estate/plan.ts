import type {Addon} from '../api/addons.js'
import type {Check} from '../checks.js'
import type {Planned} from '../runner/plan.js'
import type {Ref} from '../runner/step.js'
import {type Change, lacking, wanted} from './access.js'
import {type Estate, type EstateAttachment, POOLER_NAMESPACE} from './gather.js'

// What a recovery does to every app on the database, as pure data: which apps are quieted (maintenance,
// writers scaled to 0) and how, what becomes of each attachment, and the steps that do it. The recovering
// app's own quiet and promote stay where they were (recovery/plan.ts); this adds the others around them.

// What becomes of one attachment of the database.
export type Fate =
  | 'promoted' // the recovering app's attachment the new database takes (the promote)
  | 'kept alias' // stays on the old database: how db:reconcile reaches it
  | 'pooler re-attached' // DATABASE_CONNECTION_POOL of the recovering app, as `heroku pg:promote` does
  | 'moves' // re-attached to the new database under the same name and namespace
  | 'stays' // the database is restored in place (or not touched): nothing to move
  | 'left: credential' // a credential's attachment: the new database has no such credential

export interface EstateEntry extends EstateAttachment {
  fate: Fate
}

export interface EstateAppPlan {
  app: string
  // The app the command runs on.
  recovering: boolean
  // 'on': turned on for the switch and off after; 'already on': left on; 'no': --no-maintenance (or a drill).
  maintenance: 'on' | 'already on' | 'no'
  // The writers scaled to 0 for the switch and back after (--scale-down-workers).
  workers: {type: string, quantity: number}[]
  // Writers that keep running during the switch (without --scale-down-workers).
  writing: string[]
  attachments: EstateEntry[]
  // The user's app permissions on it, when the app lists them (a team app).
  permissions?: string[]
}

export interface EstatePlan {
  // The database's add-on name.
  database: string
  apps: EstateAppPlan[]
  // Whether the other apps are quieted at all (not for a drill, which touches only a scratch database).
  quiet: boolean
  // The recovering app's attachment that keeps the old database reachable after the promote, when one exists already.
  alias?: string
}

export interface EstateInput {
  app: string
  database: string
  // The recovering app's attachment names of the database, in the order the app lists them.
  attachmentOrder: string[]
  // Set for a point-in-time recovery that promotes: the attachment name the new database takes.
  promoteAs?: string
  // Whether the recovering app's DATABASE_CONNECTION_POOL is re-attached by the promote's own pooler step.
  hasPooler: boolean
  // No quiet at all (a drill).
  quiet: boolean
  maintenance: boolean
  scaleDownWorkers: boolean
  // The recovering app's own quiet, as recovery/plan.ts decided it.
  own: {maintenance: boolean, alreadyOn: boolean, formation: {type: string, quantity: number}[]}
}

const WRITERLESS = new Set(['web', 'release'])
export const writersOf = (formation: {type: string, quantity: number}[]) =>
  formation.filter(p => !WRITERLESS.has(p.type) && p.quantity > 0).map(({type, quantity}) => ({type, quantity}))

export const isPooler = (a: {namespace: string | null}) => a.namespace === POOLER_NAMESPACE

// The alias `heroku pg:promote` keeps: another attachment of the database on the app, in the namespace
// of the one promoted (see aliasOf in recovery/point-in-time.ts), in the order the app lists them.
function keptAlias(estate: Estate, input: EstateInput): string | undefined {
  const own = estate.attachments.filter(a => a.app === input.app)
  const promoted = own.find(a => a.name === input.promoteAs)
  const order = (name: string) => input.attachmentOrder.indexOf(name)
  return own.filter(a => a.name !== input.promoteAs && a.namespace === (promoted?.namespace ?? null))
    .sort((a, b) => order(a.name) - order(b.name))[0]?.name
}

function fateOf(attachment: EstateAttachment, input: EstateInput, alias: string | undefined): Fate {
  if (!input.promoteAs) return 'stays'
  const own = attachment.app === input.app
  if (own && attachment.name === input.promoteAs) return 'promoted'
  if (own && attachment.name === alias) return 'kept alias'
  if (own && input.hasPooler && isPooler(attachment) && attachment.name === 'DATABASE_CONNECTION_POOL') return 'pooler re-attached'
  if (attachment.namespace?.startsWith('credential:')) return 'left: credential'
  return 'moves'
}

const permissionsOf = (estate: Estate, app: string) => estate.permissions?.[app] ? {permissions: estate.permissions[app]} : {}

export function planEstate(estate: Estate, input: EstateInput): EstatePlan {
  const alias = input.promoteAs ? keptAlias(estate, input) : undefined
  const entries = (app: string) => estate.attachments.filter(a => a.app === app).map(a => ({...a, fate: fateOf(a, input, alias)}))
  const own: EstateAppPlan = {
    app: input.app, recovering: true,
    maintenance: input.own.maintenance ? 'on' : input.own.alreadyOn && input.maintenance && input.quiet ? 'already on' : 'no',
    workers: input.quiet && input.scaleDownWorkers ? writersOf(input.own.formation) : [],
    writing: input.quiet && !input.scaleDownWorkers ? writersOf(input.own.formation).map(p => p.type) : [],
    attachments: entries(input.app),
    ...permissionsOf(estate, input.app),
  }
  const others = estate.others.map((other): EstateAppPlan => ({
    app: other.app, recovering: false,
    maintenance: !input.quiet || !input.maintenance || other.denied ? 'no' : other.maintenance ? 'already on' : 'on',
    workers: input.quiet && input.scaleDownWorkers && !other.denied ? writersOf(other.formation) : [],
    writing: input.quiet && !input.scaleDownWorkers ? writersOf(other.formation).map(p => p.type) : [],
    attachments: entries(other.app),
    ...permissionsOf(estate, other.app),
  }))
  return {database: input.database, apps: [own, ...others], quiet: input.quiet, alias}
}

const names = (entries: EstateEntry[]) => entries.map(a => `${a.name}${isPooler(a) ? ' (pooler)' : ''}`).join(', ')

const MOVING: Fate[] = ['promoted', 'moves', 'pooler re-attached']

// What the plan changes on an app: its maintenance mode, its formation, its attachments.
export function changesOn(a: EstateAppPlan): Change[] {
  return [
    ...(a.maintenance === 'on' ? ['maintenance' as const] : []),
    ...(a.workers.length > 0 ? ['scaling' as const] : []),
    ...(a.attachments.some(e => MOVING.includes(e.fate)) ? ['attachments' as const] : []),
  ]
}

const NEEDS: Record<Change, (a: EstateAppPlan) => string> = {
  maintenance: () => 'turning maintenance mode on needs operate (or manage)',
  scaling: a => `scaling ${a.workers.map(w => w.type).join(', ')} to 0 needs operate (or manage)`,
  attachments: a => `${a.recovering ? 'promoting the new database and moving' : 'moving'} ${names(a.attachments.filter(e => MOVING.includes(e.fate)))} needs deploy (or manage)`,
}

// An app the recovery changes where the user's app permissions do not allow it: refused before any write.
function accessCheck(a: EstateAppPlan, plan: EstatePlan, email: string | undefined): Check | undefined {
  const missing = lacking(a.permissions, changesOn(a))
  if (missing.length === 0) return undefined
  const grant = `\`heroku access:update ${email ?? 'EMAIL'} --app ${a.app} --permissions ${wanted(a.permissions!, missing).join(',')}\``
  const held = `your app permissions on ${a.app} are ${a.permissions!.join(', ')}, and ${missing.map(change => NEEDS[change](a)).join('; ')}`
  return {
    name: 'app permissions', outcome: 'failed',
    detail: a.recovering
      ? `${held}. Ask a team admin to grant it: ${grant}.`
      : `${a.app} also uses ${plan.database} (as ${names(a.attachments)}), but ${held}. Ask a team admin to grant it (${grant}), or detach it first: ${a.attachments.map(e => `\`heroku addons:detach ${e.name} --app ${a.app}\``).join(', ')}.`,
  }
}

// The refusals (an app that cannot be read cannot be quieted or moved; one the user may not change is
// not) and what the plan does to the others.
export function estateChecks(estate: Estate, plan: EstatePlan): Check[] {
  if (!plan.quiet) return []
  const checks: Check[] = estate.others.filter(o => o.denied).map(o => {
    const attached = plan.apps.find(a => a.app === o.app)!.attachments
    return {
      name: 'apps on the database', outcome: 'failed',
      detail: `${o.app} also uses ${plan.database} (as ${names(attached)}), but ${o.denied}: it could be neither quieted nor moved. Ask for access to ${o.app}, or detach it first: ${attached.map(a => `\`heroku addons:detach ${a.name} --app ${o.app}\``).join(', ')}.`,
    }
  })
  checks.push(...plan.apps.map(a => accessCheck(a, plan, estate.email)).filter((c): c is Check => c !== undefined))
  const others = plan.apps.filter(a => !a.recovering)
  if (checks.length === 0 && others.length > 0) {
    const moving = others.some(a => a.attachments.some(e => e.fate === 'moves'))
    const quieted = others.some(a => a.maintenance === 'on' || a.workers.length > 0) ? 'quieted with the recovery' : 'not quieted (see the warnings)'
    checks.push({
      name: 'apps on the database', outcome: 'passed',
      detail: `${others.map(a => `${a.app} (${names(a.attachments)})`).join(', ')} also ${others.length === 1 ? 'uses' : 'use'} ${plan.database}: ${quieted}${moving ? ', then moved to the new database' : ''}.`,
    })
  }
  return checks
}

export function estateWarnings(plan: EstatePlan): string[] {
  const others = plan.apps.filter(a => !a.recovering)
  return [
    ...others.filter(a => a.maintenance === 'already on').map(a => `${a.app} is already in maintenance mode; it is left on afterwards.`),
    ...others.filter(a => a.writing.length > 0).map(a => `${a.app}'s ${a.writing.join(', ')} dynos keep writing to ${plan.database} during the switch; --scale-down-workers stops them.`),
    ...plan.apps.flatMap(a => a.attachments.filter(e => e.fate === 'left: credential').map(e => `${a.app}'s ${e.name} (${e.namespace}) stays on ${plan.database}: the new database has no such credential; create it (\`heroku pg:credentials:create\`) and attach it by hand.`)),
  ]
}

const suffix = (app: string) => `:${app}`

// The phases of the estate's steps: in each, the steps of different apps run at the same time (see
// Step.together), so that the rounds of requests do not grow with the number of apps.
export const TOGETHER = {
  maintenanceOn: 'Turn maintenance mode on for the other apps on the database',
  scaleDown: 'Scale the other apps\' writers to 0',
  reattach: 'Re-attach every app\'s attachments to the new database',
  scaleBack: 'Scale the other apps\' writers back',
  maintenanceOff: 'Turn maintenance mode off for the other apps on the database',
}

// The other apps' quiet around `during`, each app its own steps with their own undos: maintenance on and
// writers down before, back after, the newest put back first (the recovering app's quiet wraps all this).
// Each phase is one group: every app's maintenance at once, then every app's writers at once; the
// put-backs list the apps newest first, as they are put back when the run fails.
export function quietOthers(plan: EstatePlan, during: Planned[]): Planned[] {
  const recovering = plan.apps.find(a => a.recovering)!.app
  const others = plan.apps.filter(a => !a.recovering)
  const maintained = others.filter(a => a.maintenance === 'on')
  const scaled = others.filter(a => a.workers.length > 0)
  return [
    ...maintained.map(a => ({id: `maintenance-on${suffix(a.app)}`, kind: 'app-maintenance', app: a.app, on: true, with: recovering, together: TOGETHER.maintenanceOn} as const)),
    ...scaled.map(a => ({id: `scale-down${suffix(a.app)}`, kind: 'app-scale', app: a.app, formation: a.workers, down: true, with: recovering, together: TOGETHER.scaleDown} as const)),
    ...during,
    ...[...scaled].reverse().map(a => ({id: `scale-back${suffix(a.app)}`, kind: 'app-scale', app: a.app, formation: a.workers, down: false, with: recovering, putsBack: `scale-down${suffix(a.app)}`, together: TOGETHER.scaleBack} as const)),
    ...[...maintained].reverse().map(a => ({id: `maintenance-off${suffix(a.app)}`, kind: 'app-maintenance', app: a.app, on: false, with: recovering, putsBack: `maintenance-on${suffix(a.app)}`, together: TOGETHER.maintenanceOff} as const)),
  ]
}

export const reattachId = (a: {app: string, name: string}) => `reattach:${a.app}:${a.name}`

// After the promote: every other attachment of the old database, on every app, moved to the new one;
// then the read-back that nothing but the kept alias reaches the old database any more. The moves run in
// waves: each app's first attachment at once, then each app's second, so that no two writes go to one app
// at the same time.
export function moveSteps(plan: EstatePlan, old: {id: string, name: string}, created: Ref<Addon>): Planned[] {
  const moving = plan.apps.flatMap(a => a.attachments.filter(e => e.fate === 'moves'))
  const left = plan.apps.flatMap(a => a.attachments.filter(e => e.fate === 'left: credential')).map(({app, name, namespace}) => ({app, name, namespace}))
  const app = plan.apps.find(a => a.recovering)!.app
  // A database only its own app uses, under the names the promote moves: the promote's own read-back says it all.
  if (moving.length === 0 && plan.apps.length === 1) return []
  return [
    ...waves(moving).flatMap((wave, n) => wave.map(({app, name, namespace}): Planned => ({
      id: reattachId({app, name}), kind: 'reattach-database', app, name, namespace, old, created, together: n === 0 ? TOGETHER.reattach : `${TOGETHER.reattach} (${n + 1})`,
    }))),
    {id: 'estate-check', kind: 'estate-check', app, old, created, left},
  ]
}

// The n-th wave holds each app's n-th attachment, in the plan's order of apps.
function waves<E extends {app: string}>(entries: E[]): E[][] {
  const seen = new Map<string, number>()
  const waves: E[][] = []
  for (const entry of entries) {
    const n = seen.get(entry.app) ?? 0
    seen.set(entry.app, n + 1)
    waves[n] ??= []
    waves[n].push(entry)
  }
  return waves
}

// What a person types to point an attachment at a database (back at the old one, or on at the new one).
export function moveCommand(entry: {app: string, name: string, namespace: string | null}, to: string): string {
  if (isPooler(entry)) return `heroku addons:detach ${entry.name} --app ${entry.app} && heroku pg:connection-pooling:attach ${to} --as ${entry.name} --app ${entry.app}`
  return `heroku addons:attach ${to} --as ${entry.name} --app ${entry.app} --confirm ${entry.app}`
}
