import type {Api} from '../api/client.js'
import type {ActionOf} from '../runner/actions.js'
import type {Step} from '../runner/step.js'
import type {FilesFacts} from './gather.js'
import {type Bucket, deniedAdvice, type LifecycleRule, S3Failure} from './s3.js'
import {locatorOf} from './steps.js'

// files:protect's changes: versioning on, then a lifecycle rule that expires noncurrent versions after
// --keep-versions, every other rule kept as it is.

export const RULE_ID = 'heroku-files-protect'

export type LifecycleAction = ActionOf<'files-lifecycle'>

const denied = (bucket: Bucket, error: unknown, what: string) =>
  error instanceof S3Failure && error.denied ? new Error(deniedAdvice(bucket.ref, what)) : error

const others = (n: number) => n === 0 ? '' : `; ${n} other rule${n === 1 ? ' kept as it is' : 's kept as they are'}`

export function ourRule(prefix: string, days: number): LifecycleRule {
  return {ID: RULE_ID, Status: 'Enabled', Filter: {Prefix: prefix}, NoncurrentVersionExpiration: {NoncurrentDays: days}}
}

export function protectSteps(bucket: Bucket, facts: FilesFacts, days: number): Step<any>[] {
  const steps: Step<any>[] = []
  const {bucket: name} = bucket.ref
  if (facts.protection.versioning !== 'Enabled') {
    steps.push({
      id: 'versioning-on',
      title: `Turn versioning on for bucket ${name}`,
      async apply({writeSignal}) {
        await bucket.enableVersioning({signal: writeSignal}).catch(error => {
          throw denied(bucket, error, 'turn versioning on')
        })
      },
      async observe() {
        return await bucket.versioning() === 'Enabled' ? {applied: true, result: undefined} : {applied: false}
      },
      // S3 cannot turn versioning off again, only suspend it.
      undo: () => ({title: 'Suspend versioning', command: `aws s3api put-bucket-versioning --bucket ${name} --versioning-configuration Status=Suspended`, automatic: false}),
    })
  }
  const existing = facts.rules.find(r => r.ID === RULE_ID)
  const wanted = ourRule(bucket.ref.prefix, days)
  if (!existing ? facts.protection.keptDays === undefined : existing.NoncurrentVersionExpiration?.NoncurrentDays !== days || existing.Status !== 'Enabled') {
    const rules = [...facts.rules.filter(r => r.ID !== RULE_ID), wanted]
    steps.push({
      id: 'lifecycle-rule',
      title: `${existing ? 'Change' : 'Add'} lifecycle rule ${RULE_ID}: noncurrent versions${bucket.ref.prefix ? ` under ${bucket.ref.prefix}` : ''} kept ${days} days${others(facts.rules.filter(r => r.ID !== RULE_ID).length)}`,
      async apply({writeSignal}) {
        await bucket.putLifecycle(rules, {signal: writeSignal}).catch(error => {
          throw denied(bucket, error, 'change the lifecycle rules')
        })
      },
      // A lost answer: the rules say whether ours is in place as asked.
      async observe() {
        const now = (await bucket.lifecycle()).find(r => r.ID === RULE_ID)
        return now?.Status === 'Enabled' && now.NoncurrentVersionExpiration?.NoncurrentDays === days ? {applied: true, result: undefined} : {applied: false}
      },
      undo: (_result, run = 'RUN') => ({
        title: 'Put the lifecycle rules back as they were',
        command: `heroku recovery:resume ${run}, or by hand: aws s3api ${facts.rules.length === 0 ? `delete-bucket-lifecycle --bucket ${name}` : `put-bucket-lifecycle-configuration --bucket ${name} --lifecycle-configuration '${JSON.stringify({Rules: facts.rules})}'`}`,
        action: {kind: 'files-lifecycle', app: facts.app, bucket: locatorOf(bucket.ref), rules: facts.rules},
        automatic: true,
      }),
      done: () => `kept ${days} days`,
    })
  }
  return steps
}

export async function performLifecycle(api: Api, action: LifecycleAction): Promise<void> {
  const bucket = await bucketOf(api, action)
  try {
    await bucket.putLifecycle(action.rules)
  } finally {
    bucket.destroy()
  }
}

export async function isLifecycleBack(api: Api, action: LifecycleAction): Promise<boolean> {
  const bucket = await bucketOf(api, action)
  try {
    const now = await bucket.lifecycle()
    const ids = (rules: {ID?: string}[]) => rules.map(r => r.ID ?? '').sort().join('\n')
    return ids(now) === ids(action.rules)
  } finally {
    bucket.destroy()
  }
}

async function bucketOf(api: Api, action: LifecycleAction): Promise<Bucket> {
  const {openAppBucket} = await import('./gather.js')
  return openAppBucket(api, action.app, {bucket: action.bucket.provider === 'aws' ? action.bucket.bucket : undefined, endpoint: action.bucket.endpoint}, api.settings.timeoutMs)
}
