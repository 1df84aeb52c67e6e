import {getApp, listFormation} from '../api/apps.js'
import {type Api, started} from '../api/client.js'
import {findRelease, sourceOf, recentReleases, Release, releaseConfig, releasesAfter, waitForRelease} from '../api/releases.js'
import {BackupState, backupStates} from '../backups/gate.js'
import {ageOf, formatDuration} from '../duration.js'
import {checkSchema, Fits, OpenedDatabase, openDatabaseSide, SchemaCheck, schemaFits} from '../schema/gate.js'
import {Refused} from '../errors.js'
import {type Prompts, prompts} from '../prompts.js'
import {expiredCommit, expiredNote, expiredRefusal} from './expired.js'
import {migrationsAddedBetween} from './migrations.js'
import type {RollbackInputs} from './plan.js'
import {assertEligible, currentOf, ineligibility, previousEligible} from './target.js'

export interface GatherOptions {
  releaseRef?: string
  cwd: string
  // Read the backup states (the gate) and the maintenance state, in the first round.
  maxBackupAgeMs?: number
  maintenance: boolean
  // Wait for a newer release still in its release phase, instead of refusing.
  waitForPending: boolean
  waitTimeoutMs: number
  // Read the database and the target's Prisma schema: can the target's code run on today's schema?
  schemaGate: boolean
}

export interface Gathered {
  // What the preview is planned from (plan.ts).
  inputs: RollbackInputs
  target: Release
  current: Release
  backups?: BackupState[]
  inMaintenance: boolean
  schema?: SchemaCheck
}

// In a terminal with no release named: a picker of recent releases, showing which can be chosen.
// With a schema gate, each release says whether its code fits today's schema, and the floor is named.
async function pickRelease(ask: Prompts, newestFirst: Release[], current: Release | undefined, fits?: Fits): Promise<Release> {
  const suggested = newestFirst.slice(0, 10).filter(r => r.eligible_for_rollback)[1]
  const fit = (release: Release) => {
    const verdict = fits?.verdicts.get(release.id)
    return verdict === undefined ? '' : verdict === 'blocked' ? '  schema ✗' : verdict === 'unknown' ? '  schema ?' : '  schema ✓'
  }
  const choices = newestFirst.map(release => {
    const reason = ineligibility(release, current)
    const label = `v${release.version}`.padEnd(6) + ` ${release.description.slice(0, 44).padEnd(44)}  ${(release.user?.email ?? '').padEnd(24)} ${formatDuration(ageOf(release.created_at))} ago${fit(release)}`
    const why = release === current ? 'current' : release.status === 'expired' ? expiredNote(release) : reason?.replace(/^v\d+ (is )?/, '')
    return {name: label, value: release, disabled: reason && `(${why})`}
  })
  const floor = fits ? ` (rollback floor: ${fits.floor ? `v${fits.floor}` : 'none listed'}; below it the code does not fit today's schema)` : ''
  return ask.choose(`Roll back to which release?${floor}`, choices, 'a RELEASE argument', suggested)
}

const versionOf = (ref: string) => /^v?\d+$/i.test(ref) ? Number(ref.replace(/^v/i, '')) : undefined

// A newer release still in its release phase would become current when it finishes, over the rollback.
async function settlePending(api: Api, app: string, newest: Release[], current: Release, options: GatherOptions): Promise<boolean> {
  const pending = newest.filter(r => r.status === 'pending' && r.version > current.version)
  if (pending.length === 0) return false
  const names = pending.map(r => `v${r.version} (${r.description})`).join(', ')
  if (!options.waitForPending) {
    throw new Refused(`${names} ${pending.length === 1 ? 'is' : 'are'} still in the release phase: when it finishes it becomes current, over a rollback made now. Wait for it (\`heroku releases:info v${pending[0].version} --app ${app}\`), or pass --wait-for-pending.`)
  }
  for (const release of pending) await waitForRelease(api, app, release, options.waitTimeoutMs)
  return true
}

// Everything the preview needs, in as few rounds of parallel reads as the data allows.
export async function gatherRollback(api: Api, app: string, options: GatherOptions, ask: Prompts = prompts): Promise<Gathered> {
  const database = options.schemaGate ? openDatabaseSide(api, app) : undefined
  try {
    return await gatherWith(api, app, options, database, ask)
  } finally {
    database?.then(side => 'close' in side ? side.close() : undefined).catch(() => {})
  }
}

// Round 1: the release list, the formation, the backup states, the maintenance state (and, in
// `gatherRollback`, the database side). Round 2, as soon as the list names the target: the config vars
// and the code of both releases, and the releases undone when the target is older than the list.
async function gatherWith(api: Api, app: string, options: GatherOptions, database: OpenedDatabase | undefined, ask: Prompts): Promise<Gathered> {
  const releases = recentReleases(api, app, 25)
  const formation = started(listFormation(api, app))
  const backups = started(options.maxBackupAgeMs === undefined ? Promise.resolve(undefined) : backupStates(api, app, options.maxBackupAgeMs))
  const appInfo = started(options.maintenance ? getApp(api, app) : Promise.resolve(undefined))
  const newest = await releases
  const current = currentOf(newest)
  if (!current) throw new Refused(`${app} has no current release to roll back from.`)
  if (await settlePending(api, app, newest, current, options)) return gatherWith(api, app, {...options, waitForPending: false}, database, ask)
  const ref = options.releaseRef
  const listed = ref ? newest.find(r => r.id === ref || r.version === versionOf(ref)) : undefined
  const target = listed ?? (ref ? await findRelease(api, app, ref) : ask.interactive() ? await pickRelease(ask, newest, current, database && await schemaFits(api, app, database, {cwd: options.cwd, listed: newest, current})) : previousEligible(newest, app))
  if (target.status === 'expired') throw expiredRefusal(app, target, await expiredCommit(api, app, target))
  assertEligible(target, current, app)

  const oldestListed = newest.at(-1)?.version ?? 0
  const sources = started(Promise.all([sourceOf(api, app, current), sourceOf(api, app, target)]))
  const schema = database && sources.then(([currentSource, targetSource]) => checkSchema(api, app, database, {
    cwd: options.cwd, target, current, listed: newest, sources: new Map([[current.id, currentSource], [target.id, targetSource]]),
  }))
  // The git commands run while the config vars and the database are read.
  const deployed = sources.then(([{commit: currentCommit}, {commit: targetCommit}]) => migrationsAddedBetween(options.cwd, targetCommit, currentCommit))
  const [undone, currentConfig, targetConfig, [{commit: currentCommit}, {commit: targetCommit}], schemaCheck, processes, backupList, info, migrations] = await Promise.all([
    (target.version >= oldestListed ? Promise.resolve(newest) : releasesAfter(api, app, target.version))
      .then(list => list.filter(r => r.version > target.version && r.version <= current.version)),
    releaseConfig(api, app, current.version),
    releaseConfig(api, app, target.version),
    sources,
    schema,
    formation,
    backups,
    appInfo,
    deployed,
  ])
  const releaseCommand = processes.find(p => p.type === 'release')?.command
  const inputs = {app, current, target, undone, currentConfig, targetConfig, currentCommit, targetCommit, releaseCommand, migrations}
  return {inputs, target, current, backups: backupList, inMaintenance: info?.maintenance ?? false, schema: schemaCheck}
}
