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

// Every attachment of OLD but the one --from names (the alias a recovery kept) may still write to it:
// another app's (under any name, a pooler included), or another name on this app (DATABASE, a pooler).
export function writersOf(attachments: {name: string, app: {name: string}}[], app: string, kept: string | undefined) {
  return attachments.filter(a => !(a.app.name === app && a.name === kept && kept !== 'DATABASE'))
}

export async function resolvePair(api: Api, app: string, from: string, to: string): Promise<{old: ReconcileDatabase, current: ReconcileDatabase}> {
  const [old, current] = await Promise.all([resolve(api, app, from, '--from'), resolve(api, app, to, '--to')])
  if ((old.addon && old.addon.id === current.addon?.id) || old.url === current.url) {
    throw new Refused(`--from ${from} and --to ${to} are the same database${old.addon ? ` (${old.addon.name})` : ''}: compare the database from before the recovery with the recovered one.`)
  }
  if (old.addon) {
    const kept = (old.details as ResolvedDetails).attachment?.name
    const writers = writersOf(await attachmentsOf(api, old.addon.id), app, kept)
    if (writers.length > 0) {
      const where = writers.map(w => w.app.name === app && w.name === 'DATABASE' ? `${app}'s DATABASE_URL` : `${w.name} on ${w.app.name}`).join(', ')
      const detach = writers.filter(w => !(w.app.name === app && w.name === 'DATABASE')).map(w => `\`heroku addons:detach ${w.name} -a ${w.app.name}\``)
      throw new Refused(`--from ${from} (${old.addon.name}) is still ${where}, so an app may still be writing to it: ${detach.length > 0 ? `detach ${detach.length === 1 ? 'it' : 'each'} (${detach.join(', ')})` : 'promote the recovered database'} first.`)
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
