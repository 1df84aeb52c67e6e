import {statusOf} from '../errors.js'
import {poll} from '../poll.js'
import {Heroku, SDK_HEADERS} from './heroku.js'

// Add-ons and attachments, with the calls `heroku addons:create`, `addons:destroy` and `pg:promote` make.

export interface Addon {
  id: string
  name: string
  state: 'provisioning' | 'provisioned' | 'deprovisioning' | 'deprovisioned' | string
  plan: {name: string}
  app: {id: string, name: string}
  config_vars: string[]
}

export interface Attachment {
  id: string
  name: string
  namespace: string | null
  addon: {id: string, name: string, app?: {name: string}}
  app: {id: string, name: string}
}

export interface AddonRequest {
  plan: string
  config?: Record<string, string>
  attachmentName?: string
}

export async function createAddon(heroku: Heroku, app: string, request: AddonRequest): Promise<Addon> {
  const {body} = await heroku.post<Addon>(`/apps/${app}/addons`, {
    body: {attachment: {name: request.attachmentName}, config: request.config, plan: {name: request.plan}},
    headers: {'accept-expansion': 'plan', 'x-heroku-legacy-provider-messages': 'true'},
  })
  return body
}

export async function getAddon(heroku: Heroku, app: string, name: string): Promise<Addon> {
  const {body} = await heroku.get<Addon>(`/apps/${app}/addons/${name}`, {headers: {'Accept-Expansion': 'addon_service,plan'}})
  return body
}

// Polls the add-on until it is no longer `provisioning`, as `addons:create --wait` does.
export async function waitForProvisioning(heroku: Heroku, addon: Addon, timeoutMs: number, onStatus?: (state: string) => void): Promise<Addon> {
  const ready = await poll(async () => {
    const current = await getAddon(heroku, addon.app.name, addon.name)
    onStatus?.(current.state)
    return current.state === 'provisioning' ? undefined : current
  }, {timeoutMs, description: `${addon.name} to be provisioned`})
  if (ready.state !== 'provisioned') throw new Error(`The add-on ${addon.name} was unable to be created, with status ${ready.state}.`)
  return ready
}

// `heroku addons:destroy`: the add-on is addressed by the ids of its billing app and itself.
export async function destroyAddon(heroku: Heroku, addon: Addon): Promise<void> {
  try {
    await heroku.delete(`/apps/${addon.app.id}/addons/${addon.id}`, {body: {force: false}, headers: {'Accept-Expansion': 'plan'}})
  } catch (error) {
    if (statusOf(error) !== 404) throw error
  }
}

export async function listAttachments(heroku: Heroku, app: string): Promise<Attachment[]> {
  const {body} = await heroku.get<Attachment[]>(`/apps/${app}/addon-attachments`, {headers: SDK_HEADERS})
  return body
}

// Attaches an add-on to an app; without a name Heroku picks a colour alias. `confirm` allows replacing
// an attachment of the same name, which is how a promote moves DATABASE to another database.
export async function attach(heroku: Heroku, app: string, addonName: string, options: {name?: string, namespace: string | null}): Promise<Attachment> {
  const {body} = await heroku.post<Attachment>('/addon-attachments', {
    body: {addon: {name: addonName}, app: {name: app}, confirm: app, name: options.name, namespace: options.namespace},
  })
  return body
}
