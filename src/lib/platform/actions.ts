import {destroyAddon, isGone, readAddonWithUsers} from '../api/addons.js'
import {getApp, listFormation, scaleFormation, setMaintenance} from '../api/apps.js'
import {type ActionOf, CLOCK_SKEW_MS, type Kind, type KindsOf, otherApp} from '../runner/actions.js'

// The app's own switches as put-backs: maintenance mode, the formation, a database a run created.

declare module '../runner/actions.js' {
  interface ActionKinds {
    maintenance: {app: string, on: boolean}
    scale: {app: string, formation: {type: string, quantity: number}[]}
    'destroy-addon': {app: string, appId: string, addonId: string, name: string}
  }
}

const formationText = (formation: {type: string, quantity: number}[], separator: string) => formation.map(p => `${p.type}=${p.quantity}`).join(separator)

export const maintenance: Kind<ActionOf<'maintenance'>> = {
  title: ({on}) => `Turn maintenance mode ${on ? 'on' : 'off'}`,
  command: ({app, on}) => `heroku maintenance:${on ? 'on' : 'off'} --app ${app}`,
  perform: (api, {app, on}) => setMaintenance(api, app, on),
  isDone: async (api, {app, on}) => (await getApp(api, app)).maintenance === on,
  distrust: async (_api, action, origin) => otherApp(action, origin),
}

export const scale: Kind<ActionOf<'scale'>> = {
  title: ({formation}) => `Scale back to ${formationText(formation, ', ')}`,
  command: ({app, formation}) => `heroku ps:scale ${formationText(formation, ' ')} --app ${app}`,
  perform: (api, {app, formation}) => scaleFormation(api, app, formation),
  async isDone(api, {app, formation}) {
    const now = await listFormation(api, app)
    return formation.every(wanted => now.find(p => p.type === wanted.type)?.quantity === wanted.quantity)
  },
  distrust: async (_api, action, origin) => otherApp(action, origin),
}

export const destroy: Kind<ActionOf<'destroy-addon'>> = {
  title: ({name}) => `Destroy ${name}`,
  command: ({app, name}) => `heroku addons:destroy ${name} --app ${app} --confirm ${app}`,
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
}

export const platformKinds: KindsOf<'maintenance' | 'scale' | 'destroy-addon'> = {maintenance, scale, 'destroy-addon': destroy}
