import type {Api} from '../api/client.js'
import {parseDuration} from '../duration.js'
import {Refused} from '../errors.js'
import type {Plan} from '../plan.js'
import type {ActionOf} from '../runner/actions.js'
import type {BuildersOf, Planned} from '../runner/plan.js'
import {type BucketLocator, locatorOf} from './bucket.js'
import {bucketIn, type FilesFacts, openLocated} from './gather.js'
import {type Bucket, deniedAdvice, type LifecycleRule, S3Failure} from './s3.js'

// files:protect: versioning on, then a lifecycle rule that expires noncurrent versions after
// --keep-versions, every other rule kept as it is.

declare module '../runner/plan.js' {
  interface StepKinds {
    'files-versioning': {app: string, bucket: BucketLocator}
    // `before`: the bucket's rules as they were (none holds a secret); ours replaces a rule of the same ID.
    'files-lifecycle-rule': {app: string, bucket: BucketLocator, prefix: string, days: number, before: LifecycleRule[]}
  }
}

export const RULE_ID = 'heroku-files-protect'

export type LifecycleAction = ActionOf<'files-lifecycle'>

export interface ProtectInput {
  app: string
  days: number
  apply: boolean
  bucket?: string
  endpoint?: string
}

export interface ProtectPlan extends Plan {
  facts: FilesFacts
  days: number
  apply: boolean
}

// --keep-versions: whole days, as S3 counts noncurrent versions.
export function keepDays(text: string): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (error) {
    throw new Refused(`--keep-versions: ${(error as Error).message}`)
  }
  const days = ms / 86_400_000
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Refused(`--keep-versions ${text} must be whole days between 1d and 3650d (S3 counts noncurrent versions in days).`)
  return days
}

export function ourRule(prefix: string, days: number): LifecycleRule {
  return {ID: RULE_ID, Status: 'Enabled', Filter: {Prefix: prefix}, NoncurrentVersionExpiration: {NoncurrentDays: days}}
}

const others = (n: number) => n === 0 ? '' : `; ${n} other rule${n === 1 ? ' kept as it is' : 's kept as they are'}`

export function planProtect(facts: FilesFacts, input: ProtectInput): ProtectPlan {
  const {app, days} = input
  const bucket = locatorOf(facts.ref)
  const steps: Planned[] = []
  if (facts.protection.versioning !== 'Enabled') steps.push({id: 'versioning-on', kind: 'files-versioning', app, bucket})
  const existing = facts.rules.find(r => r.ID === RULE_ID)
  if (!existing ? facts.protection.keptDays === undefined : existing.NoncurrentVersionExpiration?.NoncurrentDays !== days || existing.Status !== 'Enabled') {
    steps.push({id: 'lifecycle-rule', kind: 'files-lifecycle-rule', app, bucket, prefix: facts.ref.prefix, days, before: facts.rules})
  }
  return {
    app, what: `protect files in ${facts.ref.bucket}`, checks: [], steps, timeoutMs: 10 * 60_000, facts, days, apply: input.apply,
    confirm: `This changes the settings of bucket ${facts.ref.bucket} (versioning, lifecycle rules).`,
    rerun: ['heroku', 'files:protect', '--app', app, '--keep-versions', `${days}d`, ...(input.bucket ? ['--bucket', input.bucket] : []), ...(input.endpoint ? ['--endpoint', input.endpoint] : []), '--apply', '--confirm', app],
  }
}

const denied = (bucket: Bucket, error: unknown, what: string) =>
  error instanceof S3Failure && error.denied ? new Error(deniedAdvice(bucket.ref, what)) : error

export const protectSteps: BuildersOf<'files-versioning' | 'files-lifecycle-rule'> = {
  'files-versioning': ({app, bucket: locator}) => ({
    title: `Turn versioning on for bucket ${locator.bucket}`,
    async apply(context) {
      const bucket = await bucketIn(context, app, locator)
      await bucket.enableVersioning({signal: context.writeSignal}).catch(error => {
        throw denied(bucket, error, 'turn versioning on')
      })
    },
    async observe(context) {
      return await (await bucketIn(context, app, locator)).versioning() === 'Enabled' ? {applied: true, result: undefined} : {applied: false}
    },
    // S3 cannot turn versioning off again, only suspend it.
    undo: () => ({title: 'Suspend versioning', command: `aws s3api put-bucket-versioning --bucket ${locator.bucket} --versioning-configuration Status=Suspended`, automatic: false}),
  }),
  'files-lifecycle-rule': ({app, bucket: locator, prefix, days, before}) => {
    const kept = before.filter(r => r.ID !== RULE_ID)
    const rules = [...kept, ourRule(prefix, days)]
    return {
      title: `${before.length > kept.length ? 'Change' : 'Add'} lifecycle rule ${RULE_ID}: noncurrent versions${prefix ? ` under ${prefix}` : ''} kept ${days} days${others(kept.length)}`,
      async apply(context) {
        const bucket = await bucketIn(context, app, locator)
        await bucket.putLifecycle(rules, {signal: context.writeSignal}).catch(error => {
          throw denied(bucket, error, 'change the lifecycle rules')
        })
      },
      // A lost answer: the rules say whether ours is in place as asked.
      async observe(context) {
        const now = (await (await bucketIn(context, app, locator)).lifecycle()).find(r => r.ID === RULE_ID)
        return now?.Status === 'Enabled' && now.NoncurrentVersionExpiration?.NoncurrentDays === days ? {applied: true, result: undefined} : {applied: false}
      },
      undo: (_result, run = 'RUN') => ({
        title: 'Put the lifecycle rules back as they were',
        command: `heroku recovery:resume ${run}, or by hand: aws s3api ${before.length === 0 ? `delete-bucket-lifecycle --bucket ${locator.bucket}` : `put-bucket-lifecycle-configuration --bucket ${locator.bucket} --lifecycle-configuration '${JSON.stringify({Rules: before})}'`}`,
        action: {kind: 'files-lifecycle', app, bucket: locator, rules: before},
        automatic: true,
      }),
      done: () => `kept ${days} days`,
    }
  },
}

export async function performLifecycle(api: Api, action: LifecycleAction): Promise<void> {
  const bucket = await openBucket(api, action)
  try {
    await bucket.putLifecycle(action.rules)
  } finally {
    bucket.destroy()
  }
}

export async function isLifecycleBack(api: Api, action: LifecycleAction): Promise<boolean> {
  const bucket = await openBucket(api, action)
  try {
    const now = await bucket.lifecycle()
    const ids = (rules: {ID?: string}[]) => rules.map(r => r.ID ?? '').sort().join('\n')
    return ids(now) === ids(action.rules)
  } finally {
    bucket.destroy()
  }
}

const openBucket = (api: Api, action: LifecycleAction) => openLocated(api, action.app, action.bucket)
