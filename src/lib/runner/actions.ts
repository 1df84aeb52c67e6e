import {destroyAddon, isGone} from '../api/addons.js'
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
  // removed. What a batch cut short may have done is read back: `unsure` markers (the key is deleted again
  // only if one of them is gone), and `copies` whose version id is not known, found by reading the key:
  // a version made since `since` (ms) above `latest` with the size and ETag of `from`.
  // The bucket by name: the credentials come from the app's config vars when it runs.
  | {kind: 'files-revert', app: string, bucket: {bucket: string, provider: 'bucketeer' | 'cloudcube' | 'aws', endpoint?: string}, markers: {key: string, versionIds: string[], unsure?: boolean}[], versions: {key: string, versionId: string}[],
    copies?: {key: string, from: string, latest: string, etag?: string, size?: number}[], since?: number}
  // files:protect's undo: the bucket's lifecycle rules as they were (rules hold no secret).
  | {kind: 'files-lifecycle', app: string, bucket: {bucket: string, provider: 'bucketeer' | 'cloudcube' | 'aws', endpoint?: string}, rules: Record<string, unknown>[]}

export interface Performing {
  timeoutMs: number
  status?(text: string): void
}

interface Kind<A extends Action> {
  perform(api: Api, action: A, how: Performing): Promise<void>
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
    case 'reapply-migrations': return `DATABASE_URL="$(heroku config:get ${action.database} --app ${action.app})" npx prisma migrate deploy`
    case 'files-revert': case 'files-lifecycle': return `heroku recovery:log --app ${action.app}`
  }
}

export const transferAction = (billingApp: string, transfer: Parameters<typeof transferName>[0]): Action =>
  ({kind: 'await-transfer', billingApp, uuid: transfer.uuid, name: transferName(transfer)})
