import {type Api, path, statusOf} from '../api/client.js'

// What the user may change on each app of the estate, known before anything is changed. A team app lists
// its collaborators with their app permissions (view, deploy, operate, manage); Heroku's app permissions
// matrix gives maintenance mode and scaling to operate, and config vars (an attachment sets them) to
// deploy; manage has both, and view changes nothing. A personal app's collaborators, a team's admins, and
// a user the list does not name (or a list the user may not read) are not known to lack anything: there
// the first write still finds out, and the run puts back what it did.

export type Change = 'maintenance' | 'scaling' | 'attachments'

const GRANTED_BY: Record<Change, string[]> = {
  maintenance: ['operate', 'manage'],
  scaling: ['operate', 'manage'],
  attachments: ['deploy', 'manage'],
}

export interface Collaborator {
  role?: string | null
  permissions?: {name?: string}[]
  user: {email?: string}
}

// The user's e-mail, read with the first round of the estate; undefined when the account cannot be read.
export async function accountEmail(api: Api): Promise<string | undefined> {
  try {
    return (await api.get<{email?: string}>('/account')).email
  } catch (error) {
    if (statusOf(error) === undefined) throw error
    return undefined
  }
}

// An app's collaborators, when the user may read them.
export async function collaboratorsOf(api: Api, app: string): Promise<Collaborator[] | undefined> {
  try {
    return await api.get<Collaborator[]>(path`/apps/${app}/collaborators`)
  } catch (error) {
    if (statusOf(error) === 403 || statusOf(error) === 404) return undefined
    throw error
  }
}

// The user's app permissions among an app's collaborators when the app lists them (a team app), else undefined.
export function permissionsIn(collaborators: Collaborator[] | undefined, email: string | undefined): string[] | undefined {
  const mine = email ? collaborators?.find(c => c.user.email?.toLowerCase() === email.toLowerCase()) : undefined
  if (!mine || mine.role === 'admin' || mine.role === 'owner' || !mine.permissions?.length) return undefined
  return mine.permissions.map(p => p.name).filter((name): name is string => Boolean(name)).sort()
}

// The changes these permissions do not grant; none when the permissions are not known.
export const lacking = (permissions: string[] | undefined, changes: Change[]): Change[] =>
  permissions ? changes.filter(change => !GRANTED_BY[change].some(p => permissions.includes(p))) : []

// The permissions to ask for: the first one granting each change lacked (operate, deploy), added to those held.
export const wanted = (permissions: string[], missing: Change[]): string[] =>
  [...new Set([...permissions, ...missing.map(change => GRANTED_BY[change][0])])]
