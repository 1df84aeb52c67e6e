import {listAttachments} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {maintenance, scale} from '../platform/actions.js'
import type {ActionOf, Kind, KindsOf, Origin} from '../runner/actions.js'

// The other apps' quiet as put-backs: maintenance mode and the formation of an app that shares the
// recovering app's database (`with`), named by app, since a run now touches several. A run log read back
// by recovery:resume may ask for them only while the two apps still share a database.

declare module '../runner/actions.js' {
  interface ActionKinds {
    'app-maintenance': {app: string, on: boolean, with: string}
    'app-scale': {app: string, formation: {type: string, quantity: number}[], with: string}
  }
}

// Another app than the run's is trusted only when the run named it and it still shares a database with the run's app.
export async function sharesDatabase(api: Api, action: {app: string, with: string}, origin: Origin): Promise<string | undefined> {
  if (action.with !== origin.app) return `it is for an app on ${action.with}'s database, and the run was on ${origin.app}`
  const [theirs, ours] = await Promise.all([listAttachments(api, action.app), listAttachments(api, origin.app)])
  const shared = new Set(ours.map(a => a.addon.id))
  return theirs.some(a => shared.has(a.addon.id)) ? undefined : `${action.app} shares no database with ${origin.app}`
}

export const appMaintenance: Kind<ActionOf<'app-maintenance'>> = {
  title: ({app, on}) => `Turn maintenance mode ${on ? 'on' : 'off'} for ${app}`,
  command: ({app, on}) => maintenance.command({kind: 'maintenance', app, on}),
  perform: (api, {app, on}, how) => maintenance.perform(api, {kind: 'maintenance', app, on}, how),
  isDone: (api, {app, on}) => maintenance.isDone(api, {kind: 'maintenance', app, on}),
  distrust: (api, action, origin) => sharesDatabase(api, action, origin),
}

export const appScale: Kind<ActionOf<'app-scale'>> = {
  title: ({app, formation}) => `Scale ${app} back to ${formation.map(p => `${p.type}=${p.quantity}`).join(', ')}`,
  command: ({app, formation}) => scale.command({kind: 'scale', app, formation}),
  perform: (api, {app, formation}, how) => scale.perform(api, {kind: 'scale', app, formation}, how),
  isDone: (api, {app, formation}) => scale.isDone(api, {kind: 'scale', app, formation}),
  distrust: (api, action, origin) => sharesDatabase(api, action, origin),
}

export const estateKinds: KindsOf<'app-maintenance' | 'app-scale'> = {'app-maintenance': appMaintenance, 'app-scale': appScale}
