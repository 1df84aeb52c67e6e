import {type Attachment, listAttachments} from '../api/addons.js'
import {listFormation} from '../api/apps.js'
import {type Api, path, SDK_HEADERS, statusOf} from '../api/client.js'
import type {AppInfo} from '../api/types.js'
import {accountEmail, collaboratorsOf, permissionsIn} from './access.js'

// The estate of a database: every app that uses it, whatever the name or namespace of its attachment.
// One request lists the attachments on every app (`GET /addons/{id}/addon-attachments`), alongside the
// user's account and the recovering app's collaborators; then each other app's state and collaborators
// are read, all of them together: one round more, whatever their number, none for a database of one app.

export const POOLER_NAMESPACE = 'connection-pooling:default'

export interface EstateAttachment {
  app: string
  name: string
  // null for a plain attachment; `connection-pooling:default` for a pooler; `credential:NAME` for a credential's.
  namespace: string | null
}

export interface EstateApp {
  app: string
  maintenance: boolean
  formation: {type: string, quantity: number}[]
  // Set when the app's state could not be read: it cannot be quieted or moved by this user.
  denied?: string
}

export interface Estate {
  // Every attachment of the database, on every app (the recovering app's included).
  attachments: EstateAttachment[]
  // Every app other than the recovering one, by name.
  others: EstateApp[]
  // The user's app permissions on the apps that list them (team apps; see access.ts), the recovering app's included.
  permissions?: Record<string, string[]>
  // The user's e-mail, for the command that grants what is lacking.
  email?: string
}

export const attachmentsOfAddon = async (api: Api, addonId: string): Promise<EstateAttachment[]> =>
  (await api.get<Attachment[]>(path`/addons/${addonId}/addon-attachments`, {headers: SDK_HEADERS}))
    .map(a => ({app: a.app.name, name: a.name, namespace: a.namespace ?? null}))

async function readApp(api: Api, app: string): Promise<EstateApp> {
  try {
    const [info, formation] = await Promise.all([api.get<AppInfo>(path`/apps/${app}`), listFormation(api, app)])
    return {app, maintenance: info.maintenance, formation: formation.map(p => ({type: p.type, quantity: p.quantity}))}
  } catch (error) {
    const status = statusOf(error)
    if (status === 403) return {app, maintenance: false, formation: [], denied: 'you have no access to it (403)'}
    if (status === 404) return {app, maintenance: false, formation: [], denied: 'it cannot be found with your account (404)'}
    throw error
  }
}

// The other apps on a database and their attachment names: what a schema change meets besides the app's own code.
export async function otherUsers(api: Api, app: string, addonId: string): Promise<{app: string, names: string[]}[]> {
  const attachments = await attachmentsOfAddon(api, addonId)
  const apps = [...new Set(attachments.map(a => a.app))].filter(name => name !== app).sort()
  return apps.map(other => ({app: other, names: attachments.filter(a => a.app === other).map(a => a.name)}))
}

// The same for a database named as a command's argument (DATABASE_URL, HEROKU_POSTGRESQL_TEAL, an add-on
// name), read alongside its resolution: the app's attachments now, the add-on's in the next round.
export async function otherUsersOf(api: Api, app: string, database: string): Promise<{app: string, names: string[]}[]> {
  const wanted = database.replace(/_URL$/i, '').toUpperCase()
  const found = (await listAttachments(api, app)).find(a => a.name.toUpperCase() === wanted || a.addon.name === database)
  return found ? otherUsers(api, app, found.addon.id) : []
}

export async function gatherEstate(api: Api, app: string, addonId: string): Promise<Estate> {
  const [attachments, email, own] = await Promise.all([attachmentsOfAddon(api, addonId), accountEmail(api), collaboratorsOf(api, app)])
  const names = [...new Set(attachments.map(a => a.app))].filter(name => name !== app).sort()
  const [others, theirs] = await Promise.all([
    Promise.all(names.map(name => readApp(api, name))),
    Promise.all(names.map(name => collaboratorsOf(api, name))),
  ])
  const listed = [[app, own] as const, ...names.map((name, i) => [name, theirs[i]] as const)]
    .map(([name, collaborators]) => [name, permissionsIn(collaborators, email)] as const)
  const permissions = Object.fromEntries(listed.filter((entry): entry is readonly [string, string[]] => entry[1] !== undefined))
  return {attachments, others, permissions, email}
}
