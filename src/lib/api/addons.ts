import {poll} from '../poll.js'
import {Api, path, SDK_HEADERS, statusOf} from './client.js'
import type {Addon, Attachment} from './types.js'

// Add-ons and attachments, with the calls `heroku addons:create`, `addons:destroy` and `pg:promote` make.

export type {Addon, Attachment} from './types.js'

export interface AddonRequest {
  plan: string
  config?: Record<string, string>
  attachmentName?: string
}

export function createAddon(api: Api, app: string, request: AddonRequest): Promise<Addon> {
  return api.post<Addon>(path`/apps/${app}/addons`, {
    body: {attachment: {name: request.attachmentName}, config: request.config, plan: {name: request.plan}},
    headers: {'accept-expansion': 'plan', 'x-heroku-legacy-provider-messages': 'true'},
  })
}

export const getAddon = (api: Api, app: string, name: string) =>
  api.get<Addon>(path`/apps/${app}/addons/${name}`, {headers: {'Accept-Expansion': 'addon_service,plan'}})

export const listAddons = (api: Api, app: string) => api.get<Addon[]>(path`/apps/${app}/addons`, {headers: {'Accept-Expansion': 'plan'}})

// Polls the add-on until it is no longer `provisioning`, as `addons:create --wait` does.
export async function waitForProvisioning(api: Api, addon: Addon, timeoutMs: number, onStatus?: (state: string) => void): Promise<Addon> {
  const ready = await poll(async () => {
    const current = await getAddon(api, addon.app.name, addon.name)
    onStatus?.(current.state)
    return current.state === 'provisioning' ? undefined : current
  }, {timeoutMs, description: `${addon.name} to be provisioned`, signal: api.settings.signal})
  if (ready.state !== 'provisioned') throw new Error(`The add-on ${addon.name} was unable to be created, with status ${ready.state}.`)
  return ready
}

// `heroku addons:destroy`: the add-on is addressed by the ids of its billing app and itself; gone already is done.
export async function destroyAddon(api: Api, addon: {app: {id: string}, id: string}): Promise<void> {
  try {
    await api.delete(path`/apps/${addon.app.id}/addons/${addon.id}`, {body: {force: false}, headers: {'Accept-Expansion': 'plan'}})
  } catch (error) {
    if (statusOf(error) !== 404) throw error
  }
}

// Whether an add-on is gone: deprovisioned, or unknown to the API.
export async function isGone(api: Api, app: string, name: string): Promise<boolean> {
  try {
    return ['deprovisioned', 'deprovisioning'].includes((await getAddon(api, app, name)).state)
  } catch (error) {
    if (statusOf(error) === 404) return true
    throw error
  }
}

// An add-on by id with every attachment it has, on any app; undefined when it is gone.
export async function readAddonWithUsers(api: Api, id: string): Promise<{addon: Addon, attachments: Attachment[]} | undefined> {
  try {
    const [addon, attachments] = await Promise.all([
      api.get<Addon>(path`/addons/${id}`),
      api.get<Attachment[]>(path`/addons/${id}/addon-attachments`, {headers: SDK_HEADERS}),
    ])
    return ['deprovisioned', 'deprovisioning'].includes(addon.state) ? undefined : {addon, attachments}
  } catch (error) {
    if (statusOf(error) === 404) return undefined
    throw error
  }
}

export const listAttachments = (api: Api, app: string) => api.get<Attachment[]>(path`/apps/${app}/addon-attachments`, {headers: SDK_HEADERS})

// Attaches an add-on to an app; without a name Heroku picks a colour alias. `confirm` allows replacing
// an attachment of the same name, which is how a promote moves DATABASE to another database.
export function attach(api: Api, app: string, addonName: string, options: {name?: string, namespace: string | null}): Promise<Attachment> {
  return api.post<Attachment>('/addon-attachments', {
    body: {addon: {name: addonName}, app: {name: app}, confirm: app, name: options.name, namespace: options.namespace},
  })
}
