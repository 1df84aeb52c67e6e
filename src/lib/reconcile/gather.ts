import {getAddon} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {path} from '../api/client.js'
import {askCapture as askToCapture, type BackupState, backupStates} from '../backups/gate.js'
import {blocking} from '../checks.js'
import {messageOf, Refused} from '../errors.js'
import {resolveAppDatabase, withConnection} from '../postgres/connect.js'
import {type Prompts, prompts} from '../prompts.js'
import {Base, findBase} from './base.js'
import {type ReconcileDatabase, type ReconcileFacts, reconcileChecks, type ReconcileInput} from './checks.js'

// db:reconcile's gather: the two databases, resolved the way every command resolves a database argument
// (the same one twice, or an OLD that an app may still write to, is refused here), the base, and the
// backups; and its one question.

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

// The backups of DATABASE alone, for the gate of --apply. After a point-in-time recovery DATABASE is a new
// database, and the backups taken under the same name before it existed are the old one's: they do not count.
async function databaseBackupStates(api: Api, app: string, current: ReconcileDatabase, maxAgeMs: number): Promise<BackupState[]> {
  const created = current.addon ? Date.parse((await getAddon(api, app, current.addon.name)).created_at ?? '') : Number.NaN
  const notBefore = current.addon && !Number.isNaN(created) ? {[current.addon.id]: created} : {}
  return (await backupStates(api, app, maxAgeMs, notBefore)).filter(s => s.database.addon.id === current.addon?.id)
}

// The base db:recover recorded in DATABASE for a recovery from OLD (see base.ts); none for a database
// recovered by hand, by an older version, or from a database that is not an add-on.
export async function lookUpBase(old: ReconcileDatabase, current: ReconcileDatabase): Promise<Base | undefined> {
  if (!old.addon) return undefined
  return withConnection(current, ({client}) => findBase(client, current.schema, old.addon!, current.addon))
}

// Everything the checks and the comparison look at: the two databases, the base, and with --apply the
// backups of DATABASE. Reads only.
export async function gatherReconcile(api: Api, input: ReconcileInput): Promise<ReconcileFacts> {
  const {old, current} = await resolvePair(api, input.app, input.from, input.to)
  const [base, backups] = await Promise.all([
    lookUpBase(old, current), input.apply && !input.skip ? databaseBackupStates(api, input.app, current, input.maxAgeMs) : undefined,
  ])
  return {old, current, base, backups}
}

// The gate's question (a backup of DATABASE too old, in a terminal), asked only when nothing else refuses.
// `ask` is the prompts (src/lib/prompts.ts), a parameter for tests.
export async function askCapture(facts: ReconcileFacts, input: ReconcileInput, ask: Prompts = prompts): Promise<boolean> {
  if (!facts.backups || blocking(reconcileChecks(facts, {...input, capture: true})).length > 0) return input.capture
  return askToCapture(facts.backups, {maxAgeMs: input.maxAgeMs, capture: input.capture, skip: input.skip, dryRun: false}, ask)
}
