import type {Api} from '../api/client.js'
import type {Check} from '../checks.js'
import {messageOf} from '../errors.js'
import {printable} from '../names.js'
import type {AppDatabase} from '../postgres/connect.js'
import {upperFirst} from '../render/index.js'

// Whether this machine can reach the databases a point-in-time recovery connects to (the sequence fence,
// the base of db:reconcile, --verify), found in the gather, before anything is written: a recovery that
// cannot connect would otherwise stop after creating (and billing) the new database, and --dry-run
// would have said every check passed.
//
// The old database is connected to at once. The new one does not exist yet, so its host is unknown:
// what is known is the way it will be reached. Heroku creates a rollback database in the same region
// (and private space) as its source, on the same port, reached the same way (directly, or through the
// space's bastion), so a connection to the old database is the best test of that path. The fence
// connects to the new database again before the promote, so a difference between the two is still
// caught before anything points at it.

export type Reach =
  | {reachable: true, path: 'direct' | 'bastion', port: number, sequences: number}
  | {reachable: false, reason: string}

// A firewall that drops packets would hold the check for the driver's 30 s; the fence itself waits longer.
export const PROBE_TIMEOUT_MS = 10_000

const connections = () => import('../postgres/connect.js')

// Connects to the database the app reaches as `attachment`, counts the sequences the fence would read,
// and closes. Never throws: what went wrong is the reason, with the URL and password redacted.
export async function probeDatabase(api: Api, app: string, attachment: string): Promise<{reach: Reach, database?: AppDatabase}> {
  const {resolveAppDatabase, withConnection} = await connections()
  let database: AppDatabase | undefined
  try {
    database = await resolveAppDatabase(api, app, attachment)
    const sequences = await withConnection(database, async ({client}) => Number((await client.query<{n: string}>(
      'SELECT count(*) AS n FROM pg_sequences WHERE schemaname NOT IN (\'pg_catalog\', \'information_schema\') AND schemaname NOT LIKE \'pg\\_%\'')).rows[0].n), PROBE_TIMEOUT_MS)
    const bastion = Boolean((database.details as {bastionKey?: string}).bastionKey)
    return {reach: {reachable: true, path: bastion ? 'bastion' : 'direct', port: Number(new URL(database.url).port || 5432), sequences}, database}
  } catch (error) {
    return {reach: {reachable: false, reason: printable(messageOf(error).split('\n')[0])}, database}
  }
}

// What in a plan connects to the databases, each with the way to leave it out.
export interface Connecting {
  what: string
  without?: string
}

export function connectingParts(plan: {promoted: boolean, surgical: boolean, verify: boolean, sequenceFence: boolean, reconcileBase: boolean}): Connecting[] {
  return [
    ...(plan.promoted && plan.sequenceFence ? [{what: 'the sequence fence', without: '--skip-sequence-fence'}] : []),
    ...(plan.promoted && plan.reconcileBase ? [{what: 'the base of db:reconcile', without: '--no-reconcile-base'}] : []),
    ...(plan.verify ? [{what: '--verify', without: 'without --verify'}] : []),
    ...(plan.surgical ? [{what: '--surgical'}] : []),
  ]
}

const list = (items: string[]) => items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`

export const fenceConsequence = (old: string, at: string) =>
  `ids that ${old} handed out after ${at} may be reused by new rows in the new database, and rows db:reconcile carries over from ${old} may then collide with them`

// The check the preview, --dry-run and the run all show; undefined when the database was not probed.
export function reachCheck(reach: Reach | undefined, database: {attachment: string, name: string}, parts: Connecting[], at: string): Check | undefined {
  if (!reach) return undefined
  const label = `${database.attachment} (${database.name})`
  if (reach.reachable) {
    const path = reach.path === 'bastion' ? 'through its private space\'s bastion' : `directly, on port ${reach.port}`
    return {name: 'connection', outcome: 'passed', detail: `Connected to ${label} from this machine, ${path} (${reach.sequences} sequence${reach.sequences === 1 ? '' : 's'} for the fence to read); a new database made from it is in the same region and space, reached the same way.`}
  }
  if (parts.length === 0) {
    return {name: 'connection', outcome: 'skipped', detail: `${label} cannot be reached from this machine (${reach.reason}); nothing in this plan connects to it.`}
  }
  const ways = parts.filter(p => p.without).map(p => p.without!)
  const fence = parts.some(p => p.without === '--skip-sequence-fence')
  return {
    name: 'connection', outcome: 'failed',
    detail: `${label} cannot be reached from this machine: ${reach.reason}. ${upperFirst(list(parts.map(p => p.what)))} connect${parts.length === 1 ? 's' : ''} to it and to the new database, so the recovery would stop after creating (and billing) the new database.`
      + ` Run db:recover from a machine that can reach it${parts.every(p => p.without) ? `, or leave out what connects: ${ways.join(', ')}${fence ? ` (with --skip-sequence-fence, ${fenceConsequence(database.name, at)})` : ''}` : ''}.`,
  }
}

// The plan's part: the connection check, and the consequence of --skip-sequence-fence said as a warning.
export function fencePlan(facts: {reach?: Reach, database: {attachment: string, name: string}}, plan: {promoted: boolean, surgical: boolean, verify: boolean, reconcileBase: boolean, at?: string}, skip: boolean) {
  const sequenceFence = plan.promoted && !skip
  const at = plan.at ?? 'the recovery point'
  const check = reachCheck(facts.reach, facts.database, connectingParts({...plan, sequenceFence}), at)
  const warnings = plan.promoted && skip ? [`--skip-sequence-fence: the new database's sequences are left as they were at ${at}: ${fenceConsequence(facts.database.name, at)}.`] : []
  return {sequenceFence, checks: check ? [check] : [], warnings}
}
