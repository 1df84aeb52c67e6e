import type {Addon} from '../api/addons.js'
import {attach, listAttachments} from '../api/addons.js'
import type {BuildersOf, CrossAppTrust} from '../runner/plan.js'
import {actionStep} from '../runner/action-step.js'
import type {Ref} from '../runner/step.js'
import {appMaintenance, appScale, sharesDatabase} from './actions.js'
import {attachmentsOfAddon, type EstateAttachment} from './gather.js'
import {isPooler, moveCommand} from './plan.js'

// Moving the estate after a promote, as step kinds: one attachment of one app re-attached to the new
// database (same name, same namespace), and the read-back that only the kept alias still reaches the old.

declare module '../runner/plan.js' {
  interface StepKinds {
    // Another app on the database (`with`: the recovering app), quieted for the switch and put back after.
    'app-maintenance': {app: string, on: boolean, with: string}
    'app-scale': {app: string, formation: {type: string, quantity: number}[], down: boolean, with: string}
    'reattach-database': {app: string, name: string, namespace: string | null, old: {id: string, name: string}, created: Ref<Addon>}
    // `app`: the recovering app, whose kept alias (the result of `keep-alias`) may stay; `left`: attachments said to stay.
    'estate-check': {app: string, old: {id: string, name: string}, created: Ref<Addon>, left: EstateAttachment[]}
  }
}

export interface Moved {
  app: string
  name: string
  namespace: string | null
  // The new database's add-on name.
  to: string
}

export interface EstateRead {
  // What still reaches the old database (the kept alias, credentials said to stay).
  remaining: EstateAttachment[]
}

const describe = (a: {app: string, name: string, namespace: string | null}) => `${a.app}'s ${a.name}${isPooler(a) ? ' (connection pooler)' : ''}`

export const estateSteps: BuildersOf<'app-maintenance' | 'app-scale' | 'reattach-database' | 'estate-check'> = {
  'app-maintenance'({app, on, with: recovering}) {
    const action = {kind: 'app-maintenance', app, on, with: recovering} as const
    return actionStep(appMaintenance, action, {undo: on ? {...action, on: false} : undefined})
  },
  'app-scale'({app, formation, down, with: recovering}) {
    const back = {kind: 'app-scale', app, formation, with: recovering} as const
    const zero = {...back, formation: formation.map(p => ({type: p.type, quantity: 0}))}
    return down
      ? actionStep(appScale, zero, {title: `Scale ${app}'s ${formation.map(p => `${p.type}=${p.quantity}`).join(', ')} to 0, so that nothing writes during the switch`, undo: back})
      : actionStep(appScale, back)
  },

  // `confirm` replaces the attachment of that name, as `heroku pg:promote` replaces DATABASE: the app
  // restarts once, onto the new database. A lost answer is settled by reading the app's attachments.
  'reattach-database': ({app, name, namespace, old, created}) => ({
    title: `Point ${describe({app, name, namespace})} at the new database (until then it is on ${old.name})`,
    async apply(context): Promise<Moved> {
      const to = context.result(created).name
      await attach(context.api, app, to, {name, namespace})
      return {app, name, namespace, to}
    },
    async observe(context) {
      const addon = context.result(created)
      const found = (await listAttachments(context.api, app)).find(a => a.name === name && (a.namespace ?? null) === namespace)
      return found?.addon.id === addon.id ? {applied: true, result: {app, name, namespace, to: addon.name}} : {applied: false}
    },
    undo: () => ({title: `Point ${describe({app, name, namespace})} back at ${old.name}`, command: moveCommand({app, name, namespace}, old.name), automatic: false}),
    done: ({to}: Moved) => `${name} of ${app} now points to ${to}`,
  }),

  'estate-check': ({app, old, created, left}) => ({
    title: `Read back that no app other than ${app} (its kept alias) still reaches ${old.name}`,
    readOnly: true,
    async apply(context): Promise<EstateRead> {
      let alias: string | undefined
      try {
        alias = context.result<string>('keep-alias')
      } catch {}
      const now = await attachmentsOfAddon(context.api, old.id)
      const allowed = (a: EstateAttachment) => (a.app === app && a.name === alias) || left.some(l => l.app === a.app && l.name === a.name)
      const stray = now.filter(a => !allowed(a))
      if (stray.length > 0) {
        const to = context.result(created).name
        throw new Error(`${stray.map(describe).join(', ')} still ${stray.length === 1 ? 'reaches' : 'reach'} ${old.name}: move ${stray.length === 1 ? 'it' : 'each'} with ${stray.map(a => `\`${moveCommand(a, to)}\``).join(', ')}`)
      }
      return {remaining: now}
    },
    done: ({remaining}: EstateRead) => `read back: ${remaining.length > 0 ? `only ${remaining.map(describe).join(', ')} still ${remaining.length === 1 ? 'reaches' : 'reach'} ${old.name}` : `nothing reaches ${old.name}`}`,
  }),
}

// A run log read back (recovery:resume --continue) may move another app only while it still shares a
// database with the run's app, as for the put-backs (actions.ts).
export const estateTrust: CrossAppTrust = {
  'app-maintenance': (api, data, origin) => sharesDatabase(api, data, origin),
  'app-scale': (api, data, origin) => sharesDatabase(api, data, origin),
  'reattach-database': (api, data, origin) => sharesDatabase(api, {app: data.app, with: origin.app}, origin),
}
