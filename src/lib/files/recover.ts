import type {Api} from '../api/client.js'
import {blocking, type Check} from '../checks.js'
import {Refused} from '../errors.js'
import type {Plan} from '../plan.js'
import {resolveTarget, type TargetRequest} from '../recovery/target.js'
import type {BucketRef} from './bucket.js'
import {gatherFiles, readFailure, referencedKeys} from './gather.js'
import {type Listing, planVersions, timeChecks} from './plan.js'
import type {Bucket} from './s3.js'
import {planBatches} from './steps.js'

// files:recover: gather (the bucket's settings, the time, and its versions folded a page at a time: the
// listing is too large to hold, so the pure planner of plan.ts reads it as it comes), then the plan.

export interface RecoverInput {
  app: string
  request: TargetRequest
  prefix?: string
  includeOverwritten: boolean
  keysFromDb?: string
  bucket?: string
  endpoint?: string
  waitTimeout: string
}

export interface RecoverFacts {
  ref: BucketRef
  at: Date
  reason: string
  checks: Check[]
  // Undefined when a check refuses: the versions are not read then.
  listing?: Listing
}

export interface RecoverPlan extends Plan {
  facts: RecoverFacts
}

export async function gatherRecover(api: Api, bucket: Bucket, input: RecoverInput): Promise<RecoverFacts> {
  const facts = await gatherFiles(api, input.app, bucket, input.prefix)
  const target = await resolveTarget(api, input.app, input.request, facts.now)
  if (target.kind !== 'time') throw new Refused('files:recover goes back to a time, not a backup.')
  const at = target.at.getTime()
  const checks = timeChecks(facts.protection, at, facts.now)
  const found = {ref: bucket.ref, at: target.at, reason: target.reason, checks}
  if (blocking(checks).length > 0) return found
  const referenced = input.keysFromDb ? await referencedKeys(api, input.app, input.keysFromDb, bucket.ref.prefix) : undefined
  const listing = await planVersions(bucket.versions(bucket.ref.prefix + (input.prefix ?? '')), {at, includeOverwritten: input.includeOverwritten, referenced}).catch(error => {
    throw readFailure(bucket.ref, error)
  })
  return {...found, listing}
}

export function planRecover(facts: RecoverFacts, input: RecoverInput): RecoverPlan {
  const {app} = input
  const files = facts.listing?.actions.length ?? 0
  const at = facts.at.toISOString()
  return {
    app, facts, checks: facts.checks, timeoutMs: 60 * 60_000,
    what: `recover files of ${facts.ref.bucket} to ${at}`,
    steps: facts.listing ? planBatches(app, facts.ref, facts.listing.actions) : [],
    confirm: `This changes ${files} file${files === 1 ? '' : 's'} in bucket ${facts.ref.bucket}; files created since stay.`,
    rerun: [
      'heroku', 'files:recover', '--app', app, '--to', at,
      ...(input.prefix ? ['--prefix', input.prefix] : []), ...(input.includeOverwritten ? ['--include-overwritten'] : []),
      ...(input.keysFromDb ? ['--keys-from-db', input.keysFromDb] : []), ...(input.bucket ? ['--bucket', input.bucket] : []),
      ...(input.endpoint ? ['--endpoint', input.endpoint] : []), ...(input.waitTimeout === '2m' ? [] : ['--wait-timeout', input.waitTimeout]), '--confirm', app,
    ],
  }
}
