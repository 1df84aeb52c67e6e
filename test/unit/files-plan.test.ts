import assert from 'node:assert/strict'
import {findBucket, hasBucketVars, parseCloudcube} from '../../src/lib/files/bucket.js'
import {keptDays, newestFirst, planKey, planVersions, timeChecks} from '../../src/lib/files/plan.js'
import type {ObjectVersion} from '../../src/lib/files/s3.js'
import {copiesMade, needsMarker, plannedRevert} from '../../src/lib/files/steps.js'
import {redact} from '../../src/lib/secrets.js'

const AT = Date.parse('2026-11-24T14:00:00Z')
const MIN = 60_000
let n = 0
// A version (or marker) `minutes` after the recovery time (negative: before it).
const v = (key: string, minutes: number, fields: Partial<ObjectVersion> = {}): ObjectVersion =>
  ({key, versionId: `v${++n}`, isLatest: false, lastModified: AT + minutes * MIN, deleteMarker: false, storageClass: 'STANDARD', ...fields})
const marker = (key: string, minutes: number) => v(key, minutes, {deleteMarker: true})
// Newest first, the newest marked latest, as S3 lists one key.
const history = (...versions: ObjectVersion[]) => newestFirst(versions.map((x, i) => ({...x, isLatest: i === versions.length - 1})))
const options = {at: AT, includeOverwritten: false}

describe('files:recover planKey', () => {
  it('deleted since, only markers after: removes exactly those markers (deleted twice: both)', () => {
    const old = v('a', -30)
    const m1 = marker('a', 5)
    const m2 = marker('a', 9)
    assert.deepEqual(planKey(history(old, m1, m2), options), {finding: 'deleted', action: {kind: 'undelete', key: 'a', markers: [m2.versionId, m1.versionId]}})
  })

  it('deleted since after an overwrite: copies the version of that time back', () => {
    const old = v('a', -30)
    const later = v('a', 5)
    const gone = marker('a', 9)
    assert.deepEqual(planKey(history(old, later, gone), options), {finding: 'deleted', action: {kind: 'copy', key: 'a', versionId: old.versionId, latest: gone.versionId, why: 'deleted'}})
  })

  it('overwritten since: left alone unless --include-overwritten', () => {
    const old = v('a', -30)
    const now = v('a', 5)
    assert.deepEqual(planKey(history(old, now), options), {finding: 'overwrittenKept'})
    assert.deepEqual(planKey(history(old, now), {...options, includeOverwritten: true}).action, {kind: 'copy', key: 'a', versionId: old.versionId, latest: now.versionId, why: 'overwritten'})
  })

  it('created since is reported and never deleted; created and deleted since is nothing; unchanged is unchanged', () => {
    assert.deepEqual(planKey(history(v('a', 5)), options), {finding: 'created'})
    assert.deepEqual(planKey(history(v('a', 5), marker('a', 6)), options), {finding: 'unchanged'})
    assert.deepEqual(planKey(history(v('a', -5)), options), {finding: 'unchanged'})
    // Deleted before the time: it was not there then, so it stays deleted.
    assert.deepEqual(planKey(history(v('a', -9), marker('a', -5)), options), {finding: 'unchanged'})
  })

  it('a version in an archive storage class is reported, not copied; an exact undelete still works', () => {
    assert.deepEqual(planKey(history(v('a', -30, {storageClass: 'GLACIER'}), v('a', 5), marker('a', 6)), options), {finding: 'archived'})
    assert.equal(planKey(history(v('a', -30, {storageClass: 'DEEP_ARCHIVE'}), marker('a', 6)), options).action?.kind, 'undelete')
  })

  it('the version of that time is the newest at or before it (same second: the newest now first, markers before versions)', () => {
    const same = v('a', 0)
    const sameMarker = marker('a', 0)
    assert.deepEqual(planKey(history(same, sameMarker), options), {finding: 'unchanged'})
  })

  it('--keys-from-db: only referenced keys that are missing are recovered', () => {
    const referenced = new Set(['a'])
    assert.equal(planKey(history(v('a', -30), marker('a', 5)), {...options, referenced}).action?.kind, 'undelete')
    assert.deepEqual(planKey(history(v('b', -30), marker('b', 5)), {...options, referenced}), {finding: 'notReferenced'})
    assert.deepEqual(planKey(history(v('a', -30), v('a', 5)), {...options, referenced, includeOverwritten: true}), {finding: 'overwrittenKept'})
  })
})

describe('files:recover: a file an earlier run copied back', () => {
  const bytes = {etag: '"0123abcd"', size: 120}

  it('has the ETag and size of the version of that time: unchanged, not copied again', () => {
    const old = v('a', -30, bytes)
    const overwrite = v('a', 5, {etag: '"ffff0000"', size: 120})
    const copy = v('a', 9, bytes)
    assert.deepEqual(planKey(history(old, overwrite, copy), {...options, includeOverwritten: true}), {finding: 'unchanged'})
    assert.deepEqual(planKey(history(old, overwrite, copy), {...options, referenced: new Set(['b'])}), {finding: 'unchanged'})
    // The same size with other bytes is an overwrite; its copy back carries what the undo looks for.
    assert.deepEqual(planKey(history(old, overwrite), {...options, includeOverwritten: true}).action,
      {kind: 'copy', key: 'a', versionId: old.versionId, latest: overwrite.versionId, why: 'overwritten', ...bytes})
  })
})

describe('files:recover: what a batch cut short made, read back', () => {
  const bytes = {etag: '"0123abcd"', size: 120}
  const since = AT + 8 * MIN

  it('copiesMade: the one version above the plan\'s newest, since the batch began, with the bytes copied; never another', () => {
    const old = v('a', -30, bytes)
    const latest = v('a', 5, {etag: '"ffff0000"', size: 77})
    const copy = v('a', 9, bytes)
    const trace = {key: 'a', from: old.versionId, latest: latest.versionId, ...bytes}
    assert.deepEqual(copiesMade(history(old, latest, copy), trace, since), [copy.versionId])
    assert.deepEqual(copiesMade(history(old, latest), trace, since), [], 'nothing made')
    // Someone's upload since, with other bytes, is not the run's; nor is a version from before the batch.
    assert.deepEqual(copiesMade(history(old, latest, v('a', 9, {etag: '"99"', size: 120})), trace, since), [])
    assert.deepEqual(copiesMade(history(old, v('a', 2, bytes), latest), {...trace}, since), [])
    // The app's upload after the copy leaves the copy findable (and the upload alone).
    const upload = v('a', 10, {etag: '"77"', size: 5})
    assert.deepEqual(copiesMade(history(old, latest, copy, upload), trace, since), [copy.versionId])
  })

  it('needsMarker: a key deleted again only when it exists and a marker the run removed is gone', () => {
    const old = v('a', -30)
    const m1 = marker('a', 5)
    assert.equal(needsMarker(history(old), {versionIds: [m1.versionId]}), true, 'undeleted by the run')
    assert.equal(needsMarker(history(old, m1), {versionIds: [m1.versionId]}), false, 'never reached')
    assert.equal(needsMarker(history(old, m1, v('a', 9)), {versionIds: [m1.versionId]}), false, 'uploaded since by someone else')
    assert.equal(needsMarker(history(old, marker('a', 12)), {versionIds: [m1.versionId]}), false, 'already deleted again')
  })

  it('plannedRevert: every key and copy of the batch, before it runs', () => {
    const ref = {provider: 'bucketeer' as const, bucket: 'bkt', prefix: '', region: 'us-east-1', keyVars: {accessKeyId: 'A', secretAccessKey: 'S'}}
    const action = plannedRevert('shop', ref, [
      {kind: 'undelete', key: 'a', markers: ['m2', 'm1']},
      {kind: 'copy', key: 'b', versionId: 'v1', latest: 'v3', why: 'overwritten', ...bytes},
    ], AT)
    assert.deepEqual(action, {
      kind: 'files-revert', app: 'shop', bucket: {bucket: 'bkt', provider: 'bucketeer'}, versions: [], since: AT - 5 * MIN,
      markers: [{key: 'a', versionIds: ['m2', 'm1'], unsure: true}], copies: [{key: 'b', from: 'v1', latest: 'v3', ...bytes}],
    })
  })
})

describe('files:recover planVersions', () => {
  async function* pages(...list: ObjectVersion[][]) {
    for (const page of list) yield page
  }

  it('folds pages (a key split across two pages) into actions, counts and samples', async () => {
    const k1 = history(v('k1', -10), marker('k1', 3), marker('k1', 4))
    const k2 = history(v('k2', -10), v('k2', 3))
    const k3 = history(v('k3', 3))
    const listing = await planVersions(pages([...k1.slice(0, 2)], [k1[2], ...k2], k3), options)
    assert.deepEqual(listing.counts, {deleted: 1, overwritten: 0, created: 1, archived: 0, overwrittenKept: 1, notReferenced: 0, missingReferenced: 0, unchanged: 0})
    assert.deepEqual(listing.actions, [{kind: 'undelete', key: 'k1', markers: [k1[0].versionId, k1[1].versionId]}])
    assert.equal(listing.versions, 6)
    assert.equal(listing.keys, 3)
    assert.deepEqual(listing.samples.created, ['k3'])
  })

  it('counts referenced keys with nothing to recover, listed or not', async () => {
    const listing = await planVersions(pages(history(v('gone', 3), marker('gone', 4))), {...options, referenced: new Set(['gone', 'never'])})
    assert.equal(listing.counts.missingReferenced, 2)
    assert.deepEqual(listing.samples.missingReferenced, ['gone', 'never'])
  })
})

describe('files:recover checks', () => {
  const DAY = 86_400_000
  it('versioning off refuses; suspended warns; a time in the future or past the lifecycle window refuses', () => {
    assert.equal(timeChecks({versioning: 'Never enabled'}, AT, AT + DAY)[0].outcome, 'failed')
    assert.match(timeChecks({versioning: 'Never enabled'}, AT, AT + DAY)[0].detail, /nothing to recover from the bucket itself.*files:protect/)
    assert.equal(timeChecks({versioning: 'Suspended'}, AT, AT + DAY)[0].outcome, 'warning')
    assert.equal(timeChecks({versioning: 'Enabled'}, AT + 1000, AT)[1].outcome, 'failed')
    assert.equal(timeChecks({versioning: 'Enabled', keptDays: 1, rule: 'r'}, AT - 2 * DAY, AT)[1].outcome, 'failed')
    assert.equal(timeChecks({versioning: 'Enabled', keptDays: 3, rule: 'r'}, AT - 2 * DAY, AT)[1].outcome, 'passed')
  })

  it('keptDays: the shortest enabled NoncurrentVersionExpiration that applies to the prefix', () => {
    const rules = [
      {ID: 'tmp', Status: 'Enabled', Filter: {Prefix: 'tmp/'}, NoncurrentVersionExpiration: {NoncurrentDays: 1}},
      {ID: 'all', Status: 'Enabled', Filter: {Prefix: ''}, NoncurrentVersionExpiration: {NoncurrentDays: 30}},
      {ID: 'off', Status: 'Disabled', Filter: {}, NoncurrentVersionExpiration: {NoncurrentDays: 2}},
      {ID: 'cur', Status: 'Enabled', Filter: {}, Expiration: {Days: 3}},
    ] as any
    assert.deepEqual(keptDays(rules, 'uploads/'), {days: 30, rule: 'all'})
    assert.deepEqual(keptDays(rules, 'tmp/x/'), {days: 1, rule: 'tmp'})
    assert.deepEqual(keptDays(rules, ''), {days: 1, rule: 'tmp'})
    assert.deepEqual(keptDays([], ''), {})
  })
})

describe('files bucket from config vars', () => {
  it('Bucketeer, Cloudcube (bucket and cube from the URL) and plain AWS_* with a bucket var or --bucket; credentials registered as secrets', () => {
    const bucketeer = findBucket({BUCKETEER_BUCKET_NAME: 'bkt', BUCKETEER_AWS_ACCESS_KEY_ID: 'AKIAUNITTEST1', BUCKETEER_AWS_SECRET_ACCESS_KEY: 'unit-secret-value-1', BUCKETEER_AWS_REGION: 'eu-west-1'})
    assert.deepEqual(bucketeer.ref, {provider: 'bucketeer', bucket: 'bkt', prefix: '', region: 'eu-west-1', endpoint: undefined, keyVars: {accessKeyId: 'BUCKETEER_AWS_ACCESS_KEY_ID', secretAccessKey: 'BUCKETEER_AWS_SECRET_ACCESS_KEY'}})
    assert.equal(redact('x AKIAUNITTEST1 unit-secret-value-1'), 'x [REDACTED] [REDACTED]')
    const cube = findBucket({CLOUDCUBE_URL: 'https://cloud-cube-us2.s3.amazonaws.com/abc123', CLOUDCUBE_ACCESS_KEY_ID: 'AKIAUNITTEST2', CLOUDCUBE_SECRET_ACCESS_KEY: 'unit-secret-value-2'})
    assert.equal(cube.ref.bucket, 'cloud-cube-us2')
    assert.equal(cube.ref.prefix, 'abc123/')
    assert.deepEqual(parseCloudcube('http://127.0.0.1:9/s3/bkt/cube', 'http://127.0.0.1:9/s3'), {bucket: 'bkt', prefix: 'cube/'})
    const aws = findBucket({AWS_ACCESS_KEY_ID: 'AKIAUNITTEST3', AWS_SECRET_ACCESS_KEY: 'unit-secret-value-3', AWS_S3_BUCKET: 'b3', AWS_ENDPOINT_URL_S3: 'http://localhost:9000'})
    assert.equal(aws.ref.bucket, 'b3')
    assert.equal(aws.ref.endpoint, 'http://localhost:9000')
    assert.throws(() => findBucket({AWS_ACCESS_KEY_ID: 'AKIAUNITTEST3', AWS_SECRET_ACCESS_KEY: 'x'}), /pass --bucket/)
    assert.throws(() => findBucket({AWS_ACCESS_KEY_ID: 'AKIAUNITTEST3', AWS_SECRET_ACCESS_KEY: 'x', S3_BUCKET: 'a', AWS_BUCKET: 'b'}), /Several config vars name a bucket/)
    assert.equal(findBucket({AWS_ACCESS_KEY_ID: 'AKIAUNITTEST3', AWS_SECRET_ACCESS_KEY: 'x'}, {bucket: 'flag'}).ref.bucket, 'flag')
    assert.throws(() => findBucket({AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'x', S3_BUCKET: 'a', AWS_ENDPOINT_URL: 'http://u:p@h'}), /must not hold credentials/)
    assert.throws(() => findBucket({NODE_ENV: 'production'}), /No S3 bucket/)
  })

  it('hasBucketVars: which apps db:recover points at files:recover', () => {
    assert.equal(hasBucketVars(['BUCKETEER_BUCKET_NAME']), true)
    assert.equal(hasBucketVars(['CLOUDCUBE_URL']), true)
    assert.equal(hasBucketVars(['AWS_ACCESS_KEY_ID', 'S3_BUCKET']), true)
    assert.equal(hasBucketVars(['AWS_S3_KEY', 'DATABASE_URL']), false)
  })
})
