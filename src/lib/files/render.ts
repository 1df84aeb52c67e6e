import {formatDuration} from '../duration.js'
import {printable} from '../names.js'
import type {View} from '../plan.js'
import {checksSection, stepList} from '../render/index.js'
import {runJson} from '../runner/report.js'
import type {RunOutcome} from '../runner/runner.js'
import type {Step} from '../runner/step.js'
import {type BucketRef, describeBucket} from './bucket.js'
import type {FilesCounts, Finding, Listing, Protection} from './plan.js'
import type {ProtectPlan} from './protect.js'
import type {RecoverPlan} from './recover.js'
import type {BatchResult} from './steps.js'
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

function describeRecoverPlan({app, facts: {ref, at, reason, checks, listing}}: RecoverPlan, steps: Step<any>[]): string {
  const shown = steps.length > MAX_STEPS_SHOWN ? [...stepList(steps.slice(0, MAX_STEPS_SHOWN - 1)), `  ... and ${steps.length - MAX_STEPS_SHOWN + 1} more batches like these`] : stepList(steps)
  return [
    `Recovering the files of ${app} in ${describeBucket(ref)} as of ${at.toISOString()}: ${reason}.`,
    '',
    ...checksSection(checks),
    ...(listing ? ['', ...describeFindings(listing)] : []),
    ...(steps.length > 0 ? ['', 'Steps:', ...shown] : []),
  ].join('\n')
}

function describeRecovered(app: string, made: {undeleted: number, markersRemoved: number, copiedBack: number}, run: string, durationMs: number): string {
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

export const revertCounts = (undeleted: number, removed: number, unanswered = 0) => [
  undeleted ? `${undeleted} deleted again` : '', removed ? `${removed} ${removed === 1 ? 'copy' : 'copies'} removed` : '',
  unanswered ? `${unanswered} unanswered ${unanswered === 1 ? 'change' : 'changes'} read back` : '',
].filter(Boolean).join(', ') || 'nothing changed'

// The run's totals, for the final message and --json.
export function totals(results: (BatchResult | undefined)[]) {
  const present = results.filter((r): r is BatchResult => r !== undefined)
  return {
    undeleted: present.reduce((n, r) => n + r.markersRemoved.length, 0),
    markersRemoved: present.reduce((n, r) => n + r.markersRemoved.reduce((m, k) => m + k.versionIds.length, 0), 0),
    copiedBack: present.reduce((n, r) => n + r.versionsCreated.length, 0),
  }
}

const recovered = (outcome: RunOutcome) => totals(outcome.steps.map(s => outcome.result<BatchResult>(s.id)))

// files:recover as the guarded skeleton shows it.
export const recoverView: View<RecoverPlan> = {
  preview: describeRecoverPlan,
  nothingToDo: () => '\nNothing to recover: every file is as it was then, or left as the flags say.',
  closing: ({app}, outcome) => `\n${describeRecovered(app, recovered(outcome), outcome.run, outcome.durationMs)}`,
  json: ({app, facts}, steps, outcome) => ({
    dryRun: !outcome, app, bucket: {...facts.ref, keyVars: undefined}, at: facts.at.toISOString(), reason: facts.reason, checks: facts.checks,
    counts: facts.listing?.counts, samples: facts.listing?.samples, versionsRead: facts.listing?.versions, filesRead: facts.listing?.keys,
    steps: steps.map(s => s.title),
    recovered: outcome && recovered(outcome),
    undo: outcome && outcome.status === 'succeeded' ? `heroku files:recover --app ${app} --undo ${outcome.run}` : undefined,
    run: outcome && runJson(outcome),
  }),
}

// files:protect as the guarded skeleton shows it.
export const protectView: View<ProtectPlan> = {
  preview: ({app, facts, apply}, steps) => [
    describeProtection(app, facts.ref, facts.protection, facts.rules),
    ...(steps.length > 0 ? ['', apply ? 'Steps:' : 'With --apply:', ...stepList(steps)] : []),
  ].join('\n'),
  nothingToDo: ({facts}) => `\nProtected: versioning is on and old versions are kept${facts.protection.keptDays === undefined ? '' : ` ${facts.protection.keptDays} days`}. Nothing to change.`,
  dryRun: ({apply}, command) => `\n${apply ? 'Dry run: nothing was changed.' : 'Nothing was changed.'} To protect the files: ${command}`,
  closing: ({app, days}) => `\nProtected: versioning is on and old versions are kept ${days} days. Files deleted or overwritten from now on can be recovered with \`heroku files:recover --app ${app}\`.`,
  json: ({app, facts}, steps, outcome) => ({
    app, bucket: {...facts.ref, keyVars: undefined}, versioning: facts.protection.versioning, keptDays: facts.protection.keptDays ?? null,
    rules: facts.rules.map(r => r.ID ?? null), steps: steps.map(s => s.title), applied: outcome?.status === 'succeeded', run: outcome && runJson(outcome),
  }),
}
