import type {Check} from '../checks.js'
import {formatDuration} from '../duration.js'
import {printable} from '../names.js'
import {checksSection, stepList} from '../render/index.js'
import type {Step} from '../runner/step.js'
import {type BucketRef, describeBucket} from './bucket.js'
import type {FilesCounts, Finding, Listing, Protection} from './plan.js'
import type {LifecycleRule} from './s3.js'

// The preview and the outcome as people read them: names of keys, counts, times and commands; never a
// credential, never the content of a file.

const FINDINGS: [Finding, string][] = [
  ['deleted', 'deleted since: put back'],
  ['overwritten', 'overwritten since: the older version copied back (--include-overwritten)'],
  ['overwrittenKept', 'overwritten since: left as they are now (--include-overwritten copies the older version back)'],
  ['created', 'created since: reported, never deleted'],
  ['archived', 'in an archive storage class (Glacier): reported, not restored; restore them with S3 first'],
  ['notReferenced', 'deleted since but not referenced by the database (--keys-from-db): left deleted'],
  ['missingReferenced', 'referenced by the database but with no version at that time to recover'],
]

export function describeFindings(listing: Listing): string[] {
  const lines = [`Read ${listing.versions} version${listing.versions === 1 ? '' : 's'} of ${listing.keys} file${listing.keys === 1 ? '' : 's'}; ${listing.counts.unchanged} unchanged since.`]
  for (const [finding, text] of FINDINGS) {
    const n = listing.counts[finding as keyof FilesCounts]
    if (n === 0) continue
    const sample = listing.samples[finding] ?? []
    lines.push(`  ${n} ${text}${sample.length > 0 ? `, e.g. ${sample.map(printable).join(', ')}${n > sample.length ? ', ...' : ''}` : ''}`)
  }
  return lines
}

const MAX_STEPS_SHOWN = 6

export function describeRecoverPlan(app: string, ref: BucketRef, at: Date, reason: string, checks: Check[], listing: Listing | undefined, steps: Step<any>[]): string {
  const shown = steps.length > MAX_STEPS_SHOWN ? [...stepList(steps.slice(0, MAX_STEPS_SHOWN - 1)), `  ... and ${steps.length - MAX_STEPS_SHOWN + 1} more batches like these`] : stepList(steps)
  return [
    `Recovering the files of ${app} in ${describeBucket(ref)} as of ${at.toISOString()}: ${reason}.`,
    '',
    ...checksSection(checks),
    ...(listing ? ['', ...describeFindings(listing)] : []),
    ...(steps.length > 0 ? ['', 'Steps:', ...shown] : []),
  ].join('\n')
}

export function describeRecovered(app: string, made: {undeleted: number, markersRemoved: number, copiedBack: number}, run: string, durationMs: number): string {
  return [
    `Recovered ${made.undeleted + made.copiedBack} file${made.undeleted + made.copiedBack === 1 ? '' : 's'} in ${formatDuration(durationMs)}: `
    + `${made.undeleted} undeleted exactly (${made.markersRemoved} delete marker${made.markersRemoved === 1 ? '' : 's'} removed), ${made.copiedBack} copied back from the version of that time.`,
    'Every delete marker removed and version created is in the run log.',
    `To undo it: heroku files:recover --app ${app} --undo ${run}`,
  ].join('\n')
}

// files:protect's report: how far back files can be recovered today.
export function describeProtection(app: string, ref: BucketRef, protection: Protection, rules: LifecycleRule[]): string {
  const reach = protection.versioning !== 'Enabled' ? 'files deleted or overwritten now cannot be recovered'
    : protection.keptDays === undefined ? 'old versions are kept for ever (no rule expires them; storage grows with every overwrite)'
      : `files can be recovered back to ${protection.keptDays} day${protection.keptDays === 1 ? '' : 's'} (lifecycle rule ${protection.rule})`
  return [
    `Files of ${app}: ${describeBucket(ref)}.`,
    `  Versioning: ${protection.versioning === 'Enabled' ? 'on' : protection.versioning === 'Suspended' ? 'suspended' : 'off'}.`,
    `  Lifecycle rules: ${rules.length === 0 ? 'none' : rules.map(r => `${r.ID ?? '(unnamed)'} (${r.Status}${r.NoncurrentVersionExpiration?.NoncurrentDays === undefined ? '' : `, noncurrent versions expire after ${r.NoncurrentVersionExpiration.NoncurrentDays} days`})`).join(', ')}.`,
    `  So: ${reach}.`,
  ].join('\n')
}
