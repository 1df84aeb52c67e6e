import {destroyAddon, isGone, readAddonWithUsers} from '../api/addons.js'
import {getApp, listFormation, scaleFormation, setMaintenance} from '../api/apps.js'
import type {Api} from '../api/client.js'
import {getTransfer, transferName, waitForTransfer} from '../api/postgres.js'
import {formatBytes} from '../bytes.js'
import type {Reapplied} from '../migrations/reapply.js'

// Undos and waits as data, so that the run log can carry them and `recovery:resume` can finish a run
// whose process died. Each kind knows how to do it and how to check, by reading, that it is done.

export type Action =
  | {kind: 'maintenance', app: string, on: boolean}
  | {kind: 'scale', app: string, formation: {type: string, quantity: number}[]}
  | {kind: 'destroy-addon', app: string, appId: string, addonId: string, name: string}
  | {kind: 'await-transfer', billingApp: string, uuid: string, name: string}
  // `database` names the config var (DATABASE_URL), never its value.
  | {kind: 'reapply-migrations', app: string, database: string, migrations: Reapplied[]}
  // files:recover's undo: a delete marker again on each key it undeleted, and the versions it copied back
  // removed. The bucket by name: the credentials come from the app's config vars when it runs.
  | {kind: 'files-revert', app: string, bucket: {bucket: string, provider: 'bucketeer' | 'cloudcube' | 'aws', endpoint?: string}, markers: {key: string, versionIds: string[]}[], versions: {key: string, versionId: string}[]}
  // files:protect's undo: the bucket's lifecycle rules as they were (rules hold no secret).
  | {kind: 'files-lifecycle', app: string, bucket: {bucket: string, provider: 'bucketeer' | 'cloudcube' | 'aws', endpoint?: string}, rules: Record<string, unknown>[]}

export interface Performing {
  timeoutMs: number
  status?(text: string): void
}

// The run an action was read from, for deciding whether it may be carried out on the log's word.
export interface Origin {
  app: string
  startedAt: string
}

interface Kind<A extends Action> {
  perform(api: Api, action: A, how: Performing): Promise<void>
  isDone(api: Api, action: A): Promise<boolean>
  // Why an action read from a run log must not be carried out (it was not this run's to do), by reading
  // the state it would change; undefined when it may.
  distrust(api: Api, action: A, origin: Origin): Promise<string | undefined>
}

// Clocks differ a little between this machine and Heroku's.
const CLOCK_SKEW_MS = 5 * 60_000

const otherApp = (action: {app: string}, origin: Origin) =>
  action.app === origin.app ? undefined : `it is for ${action.app}, and the run was on ${origin.app}`

const KINDS: {[K in Action['kind']]: Kind<Extract<Action, {kind: K}>>} = {
  maintenance: {
    perform: (api, {app, on}) => setMaintenance(api, app, on),
    isDone: async (api, {app, on}) => (await getApp(api, app)).maintenance === on,
    distrust: async (_api, action, origin) => otherApp(action, origin),
  },
  scale: {
    perform: (api, {app, formation}) => scaleFormation(api, app, formation),
    async isDone(api, {app, formation}) {
      const now = await listFormation(api, app)
      return formation.every(wanted => now.find(p => p.type === wanted.type)?.quantity === wanted.quantity)
    },
    distrust: async (_api, action, origin) => otherApp(action, origin),
  },
  'destroy-addon': {
    perform: (api, {appId, addonId}) => destroyAddon(api, {app: {id: appId}, id: addonId}),
    isDone: (api, {app, name}) => isGone(api, app, name),
    // Only a database this run created, and never one an app runs on.
    async distrust(api, action, origin) {
      const other = otherApp(action, origin)
      if (other) return other
      const found = await readAddonWithUsers(api, action.addonId)
      if (!found) return undefined
      const {addon, attachments} = found
      if (addon.app.name !== origin.app || addon.app.id !== action.appId || addon.name !== action.name) return `add-on ${action.addonId} is ${addon.name} of ${addon.app.name}, not ${action.name} of ${origin.app}`
      if (!addon.created_at || Date.parse(addon.created_at) < Date.parse(origin.startedAt) - CLOCK_SKEW_MS) return `${addon.name} was not created by this run (it exists since ${addon.created_at ?? 'an unknown time'})`
      const primary = attachments.find(a => a.name === 'DATABASE')
      if (primary) return `${addon.name} is ${primary.app.name}'s DATABASE`
      return undefined
    },
  },
  'await-transfer': {
    async perform(api, {billingApp, uuid, name}, {timeoutMs, status}) {
      const started = await getTransfer(api, billingApp, uuid)
      const done = await waitForTransfer(api, billingApp, started, t => status?.(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), timeoutMs)
      if (!done.succeeded) throw new Error(`${name.startsWith('r') ? 'Restore' : 'Backup'} ${name} failed: \`heroku pg:backups:info ${name} --app ${billingApp}\` shows its log`)
    },
    isDone: async (api, {billingApp, uuid}) => Boolean((await getTransfer(api, billingApp, uuid)).finished_at),
    // A wait changes nothing (and a database's transfers live on the app that owns it, maybe not this one).
    distrust: async () => undefined,
  },
  'reapply-migrations': {
    async perform(api, {app, database, migrations}) {
      const [{reapplyMigrations}, {resolveAppDatabase, withConnection}] = await Promise.all([import('../migrations/reapply.js'), import('../postgres/connect.js')])
      await withConnection(await resolveAppDatabase(api, app, database), ({client, schema}) => reapplyMigrations(client, schema, migrations))
    },
    async isDone(api, {app, database, migrations}) {
      const [{areApplied}, {resolveAppDatabase, withConnection}] = await Promise.all([import('../migrations/reapply.js'), import('../postgres/connect.js')])
      return withConnection(await resolveAppDatabase(api, app, database), ({client, schema}) => areApplied(client, schema, migrations.map(m => m.name)))
    },
    // The SQL must be what the database itself recorded when migrate:down reverted these migrations.
    async distrust(api, action, origin) {
      const other = otherApp(action, origin)
      if (other) return other
      if (!/^[A-Z][A-Z0-9_]*$/.test(action.database)) return `${JSON.stringify(action.database)} is not a config var name`
      const [{unrecordedReverts}, {resolveAppDatabase, withConnection}] = await Promise.all([import('../migrations/reapply.js'), import('../postgres/connect.js')])
      const unknown = await withConnection(await resolveAppDatabase(api, action.app, action.database), ({client}) => unrecordedReverts(client, action.migrations))
      return unknown.length > 0 ? `the database has no record of reverting ${unknown.join(', ')} with that SQL` : undefined
    },
  },
  'files-revert': {
    async perform(api, action) {
      const {performRevert} = await import('../files/steps.js')
      await performRevert(api, action)
    },
    async isDone(api, action) {
      const {isReverted} = await import('../files/steps.js')
      return isReverted(api, action)
    },
    // Removing a version is for good: only versions this run created.
    async distrust(api, action, origin) {
      const other = otherApp(action, origin)
      if (other) return other
      const {olderVersions} = await import('../files/steps.js')
      const older = await olderVersions(api, action, Date.parse(origin.startedAt) - CLOCK_SKEW_MS)
      return older.length > 0 ? `it would remove ${older.length} version${older.length === 1 ? '' : 's'} older than the run, the first of ${older[0]}` : undefined
    },
  },
  'files-lifecycle': {
    async perform(api, action) {
      const {performLifecycle} = await import('../files/protect.js')
      await performLifecycle(api, action)
    },
    async isDone(api, action) {
      const {isLifecycleBack} = await import('../files/protect.js')
      return isLifecycleBack(api, action)
    },
    distrust: async (_api, action, origin) => otherApp(action, origin),
  },
}

const kindOf = <A extends Action>(action: A) => KINDS[action.kind] as unknown as Kind<A>

export const perform = (api: Api, action: Action, how: Performing) => kindOf(action).perform(api, action, how)

export const isDone = (api: Api, action: Action) => kindOf(action).isDone(api, action)

export const isKnownKind = (kind: unknown): kind is Action['kind'] => typeof kind === 'string' && Object.hasOwn(KINDS, kind)

export const distrust = (api: Api, action: Action, origin: Origin) => kindOf(action).distrust(api, action, origin)

// What the action does, in the words a plan uses; from the action itself, so a run log cannot retitle it.
export function titleFor(action: Action): string {
  switch (action.kind) {
    case 'maintenance': return `Turn maintenance mode ${action.on ? 'on' : 'off'}`
    case 'scale': return `Scale back to ${action.formation.map(p => `${p.type}=${p.quantity}`).join(', ')}`
    case 'destroy-addon': return `Destroy ${action.name}`
    case 'await-transfer': return `Wait for ${action.name} to finish`
    case 'reapply-migrations': return `Apply the reverted migrations again (${action.migrations.map(m => m.name).join(', ')})`
    case 'files-revert': return `Put these files back as they were (${revertCounts(action.markers.length, action.versions.length)})`
    case 'files-lifecycle': return 'Put the lifecycle rules back as they were'
  }
}

export const revertCounts = (undeleted: number, removed: number) =>
  [undeleted ? `${undeleted} deleted again` : '', removed ? `${removed} ${removed === 1 ? 'copy' : 'copies'} removed` : ''].filter(Boolean).join(', ') || 'nothing changed'

// The commands a person types for the same thing.
export function commandFor(action: Action): string {
  switch (action.kind) {
    case 'maintenance': return `heroku maintenance:${action.on ? 'on' : 'off'} --app ${action.app}`
    case 'scale': return `heroku ps:scale ${action.formation.map(p => `${p.type}=${p.quantity}`).join(' ')} --app ${action.app}`
    case 'destroy-addon': return `heroku addons:destroy ${action.name} --app ${action.app} --confirm ${action.app}`
    case 'await-transfer': return `heroku pg:backups:info ${action.name} --app ${action.billingApp}`
    case 'reapply-migrations': return `DATABASE_URL="$(heroku config:get ${action.database} --app ${action.app})" npx prisma migrate deploy`
    case 'files-revert': case 'files-lifecycle': return `heroku recovery:log --app ${action.app}`
  }
}

export const transferAction = (billingApp: string, transfer: Parameters<typeof transferName>[0]): Action =>
  ({kind: 'await-transfer', billingApp, uuid: transfer.uuid, name: transferName(transfer)})
