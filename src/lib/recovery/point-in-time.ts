import {Addon, Attachment, createAddon, listAddons, waitForProvisioning} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {statusOf} from '../api/client.js'
import {waitStatus} from '../api/postgres.js'
import {recentReleases, waitForRelease} from '../api/releases.js'
import {poll, StopPolling} from '../poll.js'
import {herokuTime} from './target.js'

// Heroku Postgres point-in-time rollback: the add-on `heroku addons:create PLAN --rollback DB --to TIME`
// creates, the wait `heroku pg:wait` does, and the attachments `heroku pg:promote` makes.

// The database a recovery starts from, by names and ids: what a plan's steps hold of it.
export interface SourceDatabase {
  id: string
  name: string
  plan: string
  billingApp: string
  // The name the user pointed at, and every name the database is attached under on the app.
  attachment: string
  attachmentNames: string[]
}

export function createRollbackDatabase(api: Api, app: string, source: SourceDatabase, at: Date): Promise<Addon> {
  // `to`, never `by`: the time was shown and confirmed, and must not drift while the user reads.
  return createAddon(api, app, {plan: source.plan, config: {rollback: `${source.attachment}_URL`, to: herokuTime(at)}})
}

// After a lost answer to a create: an add-on of the plan that was not on the app before this run is ours.
export async function findCreated(api: Api, app: string, plan: string, knownAddons: string[]): Promise<Addon | undefined> {
  return (await listAddons(api, app)).find(a => !knownAddons.includes(a.id) && a.plan.name === plan && a.state !== 'deprovisioned')
}

async function databaseWaiting(api: Api, addon: Addon): Promise<{waiting: boolean, message: string}> {
  try {
    const status = await waitStatus(api, addon.id)
    if (status['error?']) throw new StopPolling(`${addon.name}: ${status.message}`)
    return {waiting: status['waiting?'], message: status.message}
  } catch (error) {
    // Right after creation the Data API may not know the database yet; pg:wait treats that as waiting.
    if (statusOf(error) === 404) return {waiting: true, message: 'Waiting to provision...'}
    throw error
  }
}

export type Waiting = (api: Api, addon: Addon) => Promise<{waiting: boolean, message: string}>

// Provisioned, then available as its API says (`waiting`: the Data API's wait status by default, the
// v1 API's for Advanced).
export async function waitUntilAvailable(api: Api, addon: Addon, timeoutMs: number, status: (text: string) => void, waiting: Waiting = databaseWaiting): Promise<Addon> {
  const deadline = Date.now() + timeoutMs
  const provisioned = await waitForProvisioning(api, addon, timeoutMs, status)
  await poll(async () => {
    const {waiting: still, message} = await waiting(api, provisioned)
    status(message)
    return still ? undefined : true
  }, {timeoutMs: Math.max(deadline - Date.now(), 1000), description: `${addon.name} to be available`, signal: api.settings.signal})
  return provisioned
}

export async function assertPromotable(api: Api, addon: Addon) {
  const {waiting, message} = await databaseWaiting(api, addon)
  if (waiting) throw new Error(`${addon.name} cannot be promoted while in state: ${message}`)
}

// The other name the database now attached as `name` goes by, if it has one.
export const aliasOf = (attachments: Attachment[], name: string) => {
  const current = attachments.find(a => a.name === name)
  return current && attachments.find(a => a.addon.id === current.addon.id && a.namespace === current.namespace && a.name !== name)
}

// With a release phase, a promote is only done when the `Attach` release has run.
export async function watchReleasePhase(api: Api, app: string, name: string, timeoutMs: number): Promise<string> {
  const releases = await recentReleases(api, app, 5)
  const attached = releases.find(r => r.description?.includes(`Attach ${name}`))
  if (!attached) return `unable to check release phase: no Attach ${name} release found`
  const done = await waitForRelease(api, app, attached, timeoutMs)
  if (done.status !== 'succeeded') throw new Error(`The promote's release v${done.version} (${done.description}) ${done.status}: check its release phase log`)
  return `v${done.version} ${done.status}`
}
