import {Addon, attach, createAddon, listAttachments, waitForProvisioning} from '../api/addons.js'
import {listFormation} from '../api/apps.js'
import type {Heroku} from '../api/heroku.js'
import {databaseInfo, waitStatus} from '../api/postgres.js'
import {recentReleases, waitForRelease} from '../api/releases.js'
import {SafeRollbackError, statusOf} from '../errors.js'
import {poll, StopPolling} from '../poll.js'
import type {RecoveryFacts} from './facts.js'
import {herokuTime} from './target.js'

// Heroku Postgres point-in-time rollback: the add-on `heroku addons:create PLAN --rollback DB --to TIME`
// creates, the wait `heroku pg:wait` does, and the promote `heroku pg:promote` does, step for step.

export interface Progress {
  step(title: string): void
  status(text: string): void
}

export async function createRollbackDatabase(heroku: Heroku, facts: RecoveryFacts, at: Date): Promise<Addon> {
  // `to`, never `by`: the time was shown and confirmed, and must not drift while the user reads.
  return createAddon(heroku, facts.app, {plan: facts.database.plan, config: {rollback: `${facts.database.attachment}_URL`, to: herokuTime(at)}})
}

async function databaseWaiting(heroku: Heroku, addon: Addon): Promise<{waiting: boolean, message: string}> {
  try {
    const status = await waitStatus(heroku, addon.id) as {'waiting?': boolean, 'error?'?: boolean, message: string}
    if (status['error?']) throw new StopPolling(`${addon.name}: ${status.message}`)
    return {waiting: status['waiting?'], message: status.message}
  } catch (error) {
    // Right after creation the Data API may not know the database yet; pg:wait treats that as waiting.
    if (statusOf(error) === 404) return {waiting: true, message: 'Waiting to provision...'}
    throw error
  }
}

export async function waitUntilAvailable(heroku: Heroku, addon: Addon, timeoutMs: number, progress: Progress): Promise<Addon> {
  const deadline = Date.now() + timeoutMs
  const provisioned = await waitForProvisioning(heroku, addon, timeoutMs, state => progress.status(state))
  await poll(async () => {
    const {waiting, message} = await databaseWaiting(heroku, provisioned)
    progress.status(message)
    return waiting ? undefined : true
  }, {timeoutMs: Math.max(deadline - Date.now(), 1000), description: `${addon.name} to be available`})
  return provisioned
}

export interface Promotion {
  previousAlias?: string
  poolerReattached: boolean
  follower: boolean
  releasePhase?: string
}

async function ensureAlias(heroku: Heroku, app: string, name: string, attachments: Awaited<ReturnType<typeof listAttachments>>) {
  const current = attachments.find(a => a.name === name)
  if (!current) return {current, alias: undefined}
  const existing = attachments.find(a => a.addon.id === current.addon.id && a.namespace === current.namespace && a.name !== name)
  if (existing) return {current, alias: existing.name}
  const created = await attach(heroku, app, current.addon.name, {namespace: current.namespace})
  return {current, alias: created.name}
}

// With a release phase, the promote is only done when the `Attach` release has run.
async function watchReleasePhase(heroku: Heroku, app: string, name: string): Promise<string> {
  const releases = await recentReleases(heroku, app, 5)
  const attached = releases.find(r => r.description?.includes(`Attach ${name}`))
  if (!attached) return `unable to check release phase: no Attach ${name} release found`
  const done = await waitForRelease(heroku, app, attached, 15 * 60_000)
  if (done.status !== 'succeeded') throw new SafeRollbackError(`The promote's release v${done.version} (${done.description}) ${done.status}: check its release phase log.`)
  return `v${done.version} ${done.status}`
}

export async function promote(heroku: Heroku, app: string, addon: Addon, as: string, progress: Progress): Promise<Promotion> {
  progress.step(`Ensuring an alternate alias for existing ${as}_URL`)
  const attachments = await listAttachments(heroku, app)
  const {current, alias} = await ensureAlias(heroku, app, as, attachments)
  if (current?.addon.name === addon.name) throw new SafeRollbackError(`${addon.name} is already promoted on ${app}.`)
  const {waiting, message} = await databaseWaiting(heroku, addon)
  if (waiting) throw new SafeRollbackError(`${addon.name} cannot be promoted while in state: ${message}.`)
  progress.step(`Promoting ${addon.name} to ${as}_URL on ${app}`)
  await attach(heroku, app, addon.name, {name: as, namespace: null})
  const pooler = attachments.find(a => a.namespace === 'connection-pooling:default' && a.addon.id === current?.addon.id && a.name === 'DATABASE_CONNECTION_POOL')
  if (pooler) {
    progress.step('Reattaching pooler to new leader')
    await attach(heroku, app, addon.name, {name: pooler.name, namespace: 'connection-pooling:default'})
  }
  const [info, formation] = await Promise.all([databaseInfo(heroku, addon.id), listFormation(heroku, app)])
  let releasePhase: string | undefined
  if (formation.some(p => p.type === 'release')) {
    progress.step('Checking release phase')
    releasePhase = await watchReleasePhase(heroku, app, as)
  }
  return {previousAlias: alias, poolerReattached: Boolean(pooler), follower: Boolean(info.following), releasePhase}
}
