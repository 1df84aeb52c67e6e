import {listAttachments} from '../api/addons.js'
import {getApp, listFormation, noSuchApp, Process} from '../api/apps.js'
import type {Api} from '../api/client.js'
import {databaseInfo, isBackup, listTransfers, Transfer, transferName} from '../api/postgres.js'
import {recentReleases, type Release} from '../api/releases.js'
import {ageOf, formatDuration} from '../duration.js'
import {Refused} from '../errors.js'
import {type Estate, gatherEstate} from '../estate/gather.js'
import {cliUtils} from '../cli-modules.js'
import {type Choice, type Prompts, prompts} from '../prompts.js'
import type {AppDatabase} from '../postgres/connect.js'
import {type AdvancedFacts, readAdvanced} from './advanced.js'
import {probeDatabase, type Reach} from './fence-check.js'
import type {SourceDatabase} from './point-in-time.js'
import {beforeRelease, resolveTarget, type Target, type TargetRequest} from './target.js'

// db:recover's gather (everything the planner looks at, read before anything is written) and its one
// question: how to recover, when no flag says it.

export interface RecoveryDatabase extends SourceDatabase {
  advanced: boolean
  essential: boolean
}

export interface RecoveryFacts {
  app: string
  appId: string
  database: RecoveryDatabase
  // They hold the backups' URLs: never plan data (see recoveryResources).
  transfers: Transfer[]
  // The earliest point in time the database can roll back to; null when the plan has no rollback.
  rollbackEarliest: Date | null
  formation: Process[]
  maintenance: boolean
  hasPooler: boolean
  // Add-ons attached to the app before anything ran: one that appears later was created by this run.
  knownAddons: string[]
  // Every app on the database, and every attachment of it (src/lib/estate/).
  estate: Estate
  // Whether the app keeps uploaded files in S3 (names of config vars only are looked at).
  hasBucket: boolean
  // Where to go back to, when the flags say it; else the newest releases, for the question.
  target?: Target
  releases: Release[]
  now: number
  // Whether this machine can reach the database (see fence-check.ts): read for a recovery to a time.
  reach?: Reach
  // What the probe resolved (it holds the URL): a run resource, never plan data (see recoveryResources).
  reached?: AppDatabase
  // An Advanced database's window and compute level (see advanced.ts).
  fork?: AdvancedFacts
}

async function resolveDatabase(api: Api, app: string, database: string) {
  const {DatabaseResolver} = await cliUtils()
  try {
    return await new DatabaseResolver(api.resolverClient).getAttachment(app, database)
  } catch (error) {
    const message = String((error as Error).message)
    if (/couldn't find that app|app.*not found/i.test(message)) throw noSuchApp(app)
    throw new Refused(message.split('\n')[0])
  }
}

// The info row reads `earliest from 2026-11-20 19:55 UTC`.
export function parseRollbackRow(info: {name: string, values: string[]}[]): Date | null {
  const row = info.find(r => r.name === 'Rollback')?.values[0]
  const found = row && /(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?)\s*(UTC|Z|[+-]\d\d:?\d\d)?/.exec(row)
  if (!found) return null
  const offset = !found[3] || /UTC|Z/.test(found[3]) ? 'Z' : found[3]
  return new Date(`${found[1]}T${found[2]}${offset}`)
}

async function hasBucketVars(api: Api, app: string): Promise<boolean> {
  try {
    const {hasBucketVars, readConfig} = await import('../files/bucket.js')
    return hasBucketVars(Object.keys(await readConfig(api, app)))
  } catch {
    return false
  }
}

export async function gatherRecovery(api: Api, input: {app: string, database: string, request?: TargetRequest}): Promise<RecoveryFacts> {
  const {app, request} = input
  const now = Date.now()
  // A release named by --before-release is read alongside; what the app and database reads say comes first.
  const resolving = request && resolveTarget(api, app, request, now)
  resolving?.catch(() => {})
  // The connection is tried alongside the first reads (it never throws): a restore in place does not need it.
  const probing = request?.kind === 'backup' ? undefined : probeDatabase(api, app, input.database)
  const [appInfo, attachment, attachments, formation, utils, hasBucket] = await Promise.all([
    getApp(api, app), resolveDatabase(api, app, input.database), listAttachments(api, app), listFormation(api, app), cliUtils(), hasBucketVars(api, app),
  ])
  const addon = attachment.addon as {id: string, name: string, plan: {name: string}, app: {name: string}}
  const advanced = utils.isAdvancedDatabase(addon as any)
  const [transfers, info, target, probe, fork, estate] = await Promise.all([
    listTransfers(api, addon.app.name), advanced ? undefined : databaseInfo(api, addon.id), resolving, probing, advanced ? readAdvanced(api, addon.id) : undefined, gatherEstate(api, app, addon.id),
  ])
  const rollbackEarliest = info ? parseRollbackRow(info.info) : fork?.earliest ?? null
  const mine = attachments.filter(a => a.addon.id === addon.id)
  return {
    app,
    appId: appInfo.id,
    database: {
      id: addon.id, name: addon.name, plan: addon.plan.name, billingApp: addon.app.name,
      attachment: attachment.name, attachmentNames: mine.map(a => a.name), advanced,
      essential: utils.isEssentialDatabase(addon as any) || utils.isLegacyEssentialDatabase(addon as any),
    },
    transfers,
    rollbackEarliest,
    formation,
    maintenance: appInfo.maintenance,
    // The pooler `heroku pg:promote` re-attaches; one under another name moves with the estate.
    hasPooler: mine.some(a => a.namespace === 'connection-pooling:default' && a.name === 'DATABASE_CONNECTION_POOL'),
    knownAddons: [...new Set(attachments.map(a => a.addon.id))],
    estate,
    hasBucket,
    target,
    releases: !target && rollbackEarliest ? await recentReleases(api, app, 3) : [],
    now,
    reach: probe?.reach,
    reached: probe?.database,
    fork,
  }
}

function backupChoices(facts: RecoveryFacts): Choice<Target>[] {
  return facts.transfers.filter(isBackup).filter(t => t.finished_at)
    .sort((a, b) => Date.parse(b.finished_at!) - Date.parse(a.finished_at!)).slice(0, 5)
    .map(t => ({
      name: `Restore backup ${transferName(t)} (${formatDuration(ageOf(t.finished_at!))} old): loses everything written since ${t.finished_at}`,
      value: {kind: 'backup', ref: transferName(t)},
      disabled: t.succeeded ? false : 'did not complete',
    }))
}

function timeChoices(facts: RecoveryFacts): Choice<Target>[] {
  if (!facts.rollbackEarliest) return []
  return facts.releases.map(r => ({
    name: `Roll back to one minute before v${r.version} (${r.description}, ${formatDuration(ageOf(r.created_at))} ago) into a new database: loses everything since then`,
    value: beforeRelease(r),
    disabled: Date.parse(r.created_at) - 60_000 < facts.rollbackEarliest!.getTime() ? 'outside the rollback window' : false,
  }))
}

// Neither --backup nor a time: in a terminal, both ways back explained, and the user picks one.
// `ask` is the prompts (src/lib/prompts.ts), a parameter for tests.
export function askTarget(facts: RecoveryFacts, ask: Prompts = prompts): Promise<Target> {
  const note = facts.rollbackEarliest
    ? `Point-in-time rollback reaches back to ${facts.rollbackEarliest.toISOString()} (or use --to TIME).`
    : `${facts.database.plan} has no point-in-time rollback: only backups.`
  return ask.choose('How do you want to recover?', [...backupChoices(facts), ...timeChoices(facts)], '--backup ID, --to TIME, --by DURATION or --before-release vN', undefined, {asking: 'Choosing how to recover', note})
}
