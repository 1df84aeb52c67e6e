import type {Check} from '../checks.js'
import type {LifecycleRule, ObjectVersion, Versioning} from './s3.js'

// files:recover's planner: from the bucket's versions (streamed a page at a time, one key held at once),
// the state of each key at the time against its state now, and what to do about it. Pure: no I/O.

// Storage classes a copy cannot read from without a restore first.
export const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE'])

export type FileAction =
  // Deleted since, and only delete markers came after the version of that time: remove them (an exact undelete).
  | {kind: 'undelete', key: string, markers: string[]}
  // Deleted or overwritten since: copy the version of that time back on top. `latest` is the newest version now;
  // `etag` and `size` are those of the version copied (a copy has them too).
  | {kind: 'copy', key: string, versionId: string, latest: string, why: 'deleted' | 'overwritten', etag?: string, size?: number}

export type Finding = 'deleted' | 'overwritten' | 'created' | 'archived' | 'overwrittenKept' | 'notReferenced' | 'missingReferenced' | 'unchanged'

export interface PlanOptions {
  // The time to go back to (ms since the epoch).
  at: number
  includeOverwritten: boolean
  // --keys-from-db: only these keys are recovered (when missing).
  referenced?: Set<string>
  // How many sample keys per finding the preview shows.
  samples?: number
}

export interface KeyPlan {
  finding: Finding
  action?: FileAction
}

// Newest first, as S3 lists them; within one second (S3's resolution) the newest now comes first, then
// delete markers before versions (an upload and its delete in the same second: the delete came after).
export function newestFirst(versions: ObjectVersion[]): ObjectVersion[] {
  return versions.map((v, i) => ({v, i})).sort((a, b) =>
    b.v.lastModified - a.v.lastModified || Number(b.v.isLatest) - Number(a.v.isLatest) || Number(b.v.deleteMarker) - Number(a.v.deleteMarker) || a.i - b.i)
    .map(({v}) => v)
}

// The same bytes: S3's ETag of a plain upload or copy is the MD5 of its content. A copy back made by an
// earlier run has the ETag and size of the version it copied, so the file is as it was then.
export const sameContent = (a: ObjectVersion, b: Pick<ObjectVersion, 'etag' | 'size'>) =>
  !a.deleteMarker && a.etag !== undefined && a.etag === b.etag && a.size === b.size

// One key: its versions, newest first.
export function planKey(versions: ObjectVersion[], options: PlanOptions): KeyPlan {
  const key = versions[0].key
  const thenIndex = versions.findIndex(v => v.lastModified <= options.at)
  const then = thenIndex === -1 ? undefined : versions[thenIndex]
  const now = versions[0]
  const since = thenIndex === -1 ? versions : versions.slice(0, thenIndex)
  const existedThen = then !== undefined && !then.deleteMarker
  const existsNow = !now.deleteMarker
  const referenced = options.referenced
  if (since.length === 0) return {finding: 'unchanged'}
  if (!existedThen) return {finding: existsNow ? 'created' : 'unchanged'}
  const asThen = existsNow && (now.versionId === then.versionId || sameContent(now, then))
  if (referenced && !referenced.has(key)) return {finding: asThen ? 'unchanged' : existsNow ? 'overwrittenKept' : 'notReferenced'}
  if (asThen) return {finding: 'unchanged'}
  if (existsNow && (referenced || !options.includeOverwritten)) return {finding: 'overwrittenKept'}
  const why = existsNow ? 'overwritten' : 'deleted'
  if (!existsNow && since.every(v => v.deleteMarker)) return {finding: 'deleted', action: {kind: 'undelete', key, markers: since.map(v => v.versionId)}}
  if (ARCHIVE_CLASSES.has(then.storageClass ?? '')) return {finding: 'archived'}
  return {finding: why, action: {kind: 'copy', key, versionId: then.versionId, latest: now.versionId, why, ...(then.etag === undefined ? {} : {etag: then.etag}), ...(then.size === undefined ? {} : {size: then.size})}}
}

export interface FilesCounts {
  deleted: number
  overwritten: number
  created: number
  archived: number
  // Overwritten since, left as they are (without --include-overwritten, or with --keys-from-db).
  overwrittenKept: number
  // --keys-from-db: deleted since but not referenced by the database; referenced but with nothing to recover.
  notReferenced: number
  missingReferenced: number
  unchanged: number
}

export interface Listing {
  actions: FileAction[]
  counts: FilesCounts
  samples: Partial<Record<Finding, string[]>>
  keys: number
  versions: number
}

// Folds the listing, a page at a time, into the actions and the counts. Only one key's versions are held.
export async function planVersions(pages: AsyncIterable<ObjectVersion[]>, options: PlanOptions): Promise<Listing> {
  const listing: Listing = {actions: [], counts: {deleted: 0, overwritten: 0, created: 0, archived: 0, overwrittenKept: 0, notReferenced: 0, missingReferenced: 0, unchanged: 0}, samples: {}, keys: 0, versions: 0}
  const maxSamples = options.samples ?? 5
  const seenReferenced = new Set<string>()
  let group: ObjectVersion[] = []
  const flush = () => {
    if (group.length === 0) return
    const planned = planKey(newestFirst(group), options)
    const key = group[0].key
    listing.keys++
    if (options.referenced?.has(key)) {
      seenReferenced.add(key)
      // A referenced key that does not exist now and has no version of that time to bring back.
      if (!planned.action && group.some(v => v.isLatest && v.deleteMarker)) {
        listing.counts.missingReferenced++
        sample(listing, 'missingReferenced', key, maxSamples)
      }
    }
    listing.counts[planned.finding]++
    if (planned.finding !== 'unchanged') sample(listing, planned.finding, key, maxSamples)
    if (planned.action) listing.actions.push(planned.action)
    group = []
  }
  for await (const page of pages) {
    for (const version of page) {
      listing.versions++
      if (group.length > 0 && group[0].key !== version.key) flush()
      group.push(version)
    }
  }
  flush()
  for (const key of options.referenced ?? []) {
    if (seenReferenced.has(key)) continue
    listing.counts.missingReferenced++
    sample(listing, 'missingReferenced', key, maxSamples)
  }
  return listing
}

function sample(listing: Listing, finding: Finding, key: string, max: number) {
  const list = (listing.samples[finding] ??= [])
  if (list.length < max) list.push(key)
}

// How far back the bucket keeps versions: the shortest NoncurrentVersionExpiration of the enabled rules
// that apply to the app's files. Undefined: kept for ever.
export function keptDays(rules: LifecycleRule[], prefix: string): {days?: number, rule?: string} {
  let best: {days?: number, rule?: string} = {}
  for (const rule of rules) {
    if (rule.Status !== 'Enabled') continue
    const days = rule.NoncurrentVersionExpiration?.NoncurrentDays
    if (days === undefined) continue
    const rulePrefix = rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? (rule as {Prefix?: string}).Prefix ?? ''
    // A rule limited to tags or sizes applies to some objects only: count it, to be safe.
    if (rulePrefix && !prefix.startsWith(rulePrefix) && !rulePrefix.startsWith(prefix)) continue
    if (best.days === undefined || days < best.days) best = {days, rule: rule.ID ?? '(unnamed)'}
  }
  return best
}

const DAY = 86_400_000

export interface Protection {
  versioning: Versioning
  keptDays?: number
  rule?: string
}

// The checks before anything is listed: versioning, the lifecycle window, a time in the future.
export function timeChecks(protection: Protection, at: number, now: number): Check[] {
  const checks: Check[] = []
  if (protection.versioning === 'Never enabled') {
    checks.push({name: 'versioning', outcome: 'failed', detail: 'Versioning is off on this bucket: a delete or an overwrite there is final, so there is nothing to recover from the bucket itself. Run `heroku files:protect --apply` so that this works next time.'})
  } else if (protection.versioning === 'Suspended') {
    checks.push({name: 'versioning', outcome: 'warning', detail: 'Versioning is suspended: versions from before it was suspended can be recovered; deletes and overwrites since replaced files for good.'})
  } else {
    checks.push({name: 'versioning', outcome: 'passed', detail: 'on: deleted and overwritten files keep their older versions'})
  }
  if (at > now) {
    checks.push({name: 'time', outcome: 'failed', detail: `${new Date(at).toISOString()} is in the future: there is nothing to go back to.`})
  } else if (protection.keptDays !== undefined && at < now - protection.keptDays * DAY) {
    checks.push({name: 'time', outcome: 'failed', detail: `${new Date(at).toISOString()} is older than the bucket keeps old versions: lifecycle rule ${protection.rule} expires them after ${protection.keptDays} day${protection.keptDays === 1 ? '' : 's'}, so files can be recovered back to ${new Date(now - protection.keptDays * DAY).toISOString()} at most.`})
  } else {
    checks.push({name: 'time', outcome: 'passed', detail: protection.keptDays === undefined ? 'no lifecycle rule expires old versions' : `inside the ${protection.keptDays}-day window of lifecycle rule ${protection.rule}`})
  }
  return checks
}
