import {getAddon} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {path} from '../api/client.js'
import {backupGate, backupStates, GateOptions, GateResult} from '../backups/gate.js'
import {messageOf, Refused} from '../errors.js'
import {AppDatabase, resolveAppDatabase, withConnection} from '../postgres/connect.js'
import {Base, findBase} from './base.js'

// The two databases of `db:reconcile`, resolved the way every command resolves a database argument,
// and the refusals that come before anything is read from them or written to disk.

export interface ReconcileDatabase extends AppDatabase {
  // The name the user gave: HEROKU_POSTGRESQL_OLIVE, DATABASE_URL.
  given: string
  addon?: {id: string, name: string}
}

interface ResolvedDetails {
  attachment?: {name: string, addon: {id: string, name: string}}
}

async function resolve(api: Api, app: string, given: string, flag: string): Promise<ReconcileDatabase> {
  try {
    const database = await resolveAppDatabase(api, app, given)
    const addon = (database.details as ResolvedDetails).attachment?.addon
    return {...database, given, addon: addon && {id: addon.id, name: addon.name}}
  } catch (error) {
    if (error instanceof Refused) throw error
    throw new Refused(`${flag} ${given}: ${messageOf(error).split('\n')[0]}`)
  }
}

const attachmentsOf = (api: Api, addonId: string) =>
  api.get<{name: string, app: {name: string}}[]>(path`/addons/${addonId}/addon-attachments`)

export async function resolvePair(api: Api, app: string, from: string, to: string): Promise<{old: ReconcileDatabase, current: ReconcileDatabase}> {
  const [old, current] = await Promise.all([resolve(api, app, from, '--from'), resolve(api, app, to, '--to')])
  if ((old.addon && old.addon.id === current.addon?.id) || old.url === current.url) {
    throw new Refused(`--from ${from} and --to ${to} are the same database${old.addon ? ` (${old.addon.name})` : ''}: compare the database from before the recovery with the recovered one.`)
  }
  if (old.addon) {
    const attachments = await attachmentsOf(api, old.addon.id)
    const writer = attachments.find(a => a.app.name !== app) ?? attachments.find(a => a.app.name === app && a.name === 'DATABASE')
    if (writer) {
      const where = writer.app.name === app ? `${app}'s DATABASE_URL` : `${writer.name} on ${writer.app.name}`
      throw new Refused(`--from ${from} (${old.addon.name}) is still ${where}, so an app may still be writing to it: detach it (or promote the recovered database) first.`)
    }
  }
  return {old, current}
}

// The backup gate on DATABASE alone. After a point-in-time recovery DATABASE is a new database, and the
// backups taken under the same name before it existed are the old one's: they do not count.
export async function databaseBackupGate(api: Api, app: string, current: ReconcileDatabase, options: GateOptions): Promise<GateResult> {
  const created = current.addon ? Date.parse((await getAddon(api, app, current.addon.name)).created_at ?? '') : Number.NaN
  const notBefore = current.addon && !Number.isNaN(created) ? {[current.addon.id]: created} : {}
  const states = (await backupStates(api, app, options.maxAgeMs, notBefore)).filter(s => s.database.addon.id === current.addon?.id)
  return backupGate(states, options)
}

// The base db:recover recorded in DATABASE for a recovery from OLD (see base.ts); none for a database
// recovered by hand, by an older version, or from a database that is not an add-on.
export async function lookUpBase(old: ReconcileDatabase, current: ReconcileDatabase): Promise<Base | undefined> {
  if (!old.addon) return undefined
  return withConnection(current, ({client}) => findBase(client, current.schema, old.addon!, current.addon))
}

// The refusals the base decides, before anything is written: a --since that is not its recovery point,
// and, without one, an --apply that nobody said which side wins for.
export function assertBaseFits(base: Base | undefined, current: ReconcileDatabase, options: {since?: string, apply: boolean, prefer?: string}): void {
  if (base && options.since && options.since !== base.recoveryPoint) {
    throw new Refused(`--since ${options.since} is not the recovery point of the base db:recover recorded in ${current.label} (run ${base.run}: ${base.recoveryPoint}): leave --since out, or give that time.`)
  }
  if (!base && options.apply && !options.prefer) {
    throw new Refused(`${current.label} holds no base recorded by db:recover, so the comparison is two-way and cannot tell which side changed a row: --apply could overwrite writes made to it after the promote, or bring back rows deleted from it since. Compare without --apply and read the folder, then say which side wins with --prefer old|current.`)
  }
}
