import {destroyAddon, isGone} from '../api/addons.js'
import {getApp, listFormation, scaleFormation, setMaintenance} from '../api/apps.js'
import type {Api} from '../api/client.js'
import {getTransfer, transferName, waitForTransfer} from '../api/postgres.js'
import {getRelease, waitForRelease} from '../api/releases.js'
import {formatBytes} from '../bytes.js'
import type {Reapplied} from '../migrations/reapply.js'

// Undos and waits as data, so that the run log can carry them and `recovery:resume` can finish a run
// whose process died. Each kind knows how to do it and how to check, by reading, that it is done.

export type Action =
  | {kind: 'maintenance', app: string, on: boolean}
  | {kind: 'scale', app: string, formation: {type: string, quantity: number}[]}
  | {kind: 'destroy-addon', app: string, appId: string, addonId: string, name: string}
  | {kind: 'await-transfer', billingApp: string, uuid: string, name: string}
  // A release phase (a rollback's): it ends succeeded (the release is live) or failed (it never was).
  | {kind: 'await-release', app: string, id: string, version: number}
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

// How a wait ended, when its work can end without effect (a release phase that fails): what only that
// work relied on is then to be put back too (see openItems in log.ts).
export interface Ended {
  tookEffect: boolean
  // One line for the engineer: 'v56 (Rollback to v53) succeeded: it is live'.
  said: string
}

interface Kind<A extends Action> {
  perform(api: Api, action: A, how: Performing): Promise<void | Ended>
  isDone(api: Api, action: A): Promise<boolean>
}

const KINDS: {[K in Action['kind']]: Kind<Extract<Action, {kind: K}>>} = {
  maintenance: {
    perform: (api, {app, on}) => setMaintenance(api, app, on),
    isDone: async (api, {app, on}) => (await getApp(api, app)).maintenance === on,
  },
  scale: {
    perform: (api, {app, formation}) => scaleFormation(api, app, formation),
    async isDone(api, {app, formation}) {
      const now = await listFormation(api, app)
      return formation.every(wanted => now.find(p => p.type === wanted.type)?.quantity === wanted.quantity)
    },
  },
  'destroy-addon': {
    perform: (api, {appId, addonId}) => destroyAddon(api, {app: {id: appId}, id: addonId}),
    isDone: (api, {app, name}) => isGone(api, app, name),
  },
  'await-transfer': {
    async perform(api, {billingApp, uuid, name}, {timeoutMs, status}) {
      const started = await getTransfer(api, billingApp, uuid)
      const done = await waitForTransfer(api, billingApp, started, t => status?.(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), timeoutMs)
      if (!done.succeeded) throw new Error(`${name.startsWith('r') ? 'Restore' : 'Backup'} ${name} failed: \`heroku pg:backups:info ${name} --app ${billingApp}\` shows its log`)
    },
    isDone: async (api, {billingApp, uuid}) => Boolean((await getTransfer(api, billingApp, uuid)).finished_at),
  },
  'await-release': {
    async perform(api, {app, id, version}, {timeoutMs, status}) {
      status?.(`v${version}: release phase running`)
      const ended = await waitForRelease(api, app, await getRelease(api, app, id), timeoutMs)
      return ended.status === 'succeeded'
        ? {tookEffect: true, said: `v${version} (${ended.description}) succeeded: it is live`}
        : {tookEffect: false, said: `v${version} (${ended.description}) ${ended.status}: its release command did not succeed, so ${app} still runs the release before it`}
    },
    isDone: async (api, {app, id}) => (await getRelease(api, app, id)).status !== 'pending',
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
  },
}

const kindOf = <A extends Action>(action: A) => KINDS[action.kind] as unknown as Kind<A>

export const perform = (api: Api, action: Action, how: Performing) => kindOf(action).perform(api, action, how)

export const isDone = (api: Api, action: Action) => kindOf(action).isDone(api, action)

// The commands a person types for the same thing.
export function commandFor(action: Action): string {
  switch (action.kind) {
    case 'maintenance': return `heroku maintenance:${action.on ? 'on' : 'off'} --app ${action.app}`
    case 'scale': return `heroku ps:scale ${action.formation.map(p => `${p.type}=${p.quantity}`).join(' ')} --app ${action.app}`
    case 'destroy-addon': return `heroku addons:destroy ${action.name} --app ${action.app} --confirm ${action.app}`
    case 'await-transfer': return `heroku pg:backups:info ${action.name} --app ${action.billingApp}`
    case 'await-release': return `heroku releases:info v${action.version} --app ${action.app}`
    case 'reapply-migrations': return `DATABASE_URL="$(heroku config:get ${action.database} --app ${action.app})" npx prisma migrate deploy`
    case 'files-revert': case 'files-lifecycle': return `heroku recovery:log --app ${action.app}`
  }
}

export const transferAction = (billingApp: string, transfer: Parameters<typeof transferName>[0]): Action =>
  ({kind: 'await-transfer', billingApp, uuid: transfer.uuid, name: transferName(transfer)})
