import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {RecordedRequest} from '../src/sandbox/index.js'
import {bucketConfig, newAccessKeys} from '../src/sandbox/heroku/storage-addons.js'
import {seedMissingUploads} from '../src/sandbox/seeds/uploads.js'
import {Bucket} from '../src/lib/files/s3.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {cliEnv, heroku, interactive, Result} from './support/heroku.js'
import {bucketState, content, type Endpoint, listing, sdk, seedChangedFiles, seedUploads, type Uploads, useS3} from './support/files.js'
import {appName, sandbox} from './support/sandbox.js'

// `heroku files:recover` through the real CLI, against the sandbox's S3 and against moto_server (an
// independent S3 implementation): the bucket is read back after every run, not only the output.

const runLogs = (app: string) => {
  const dir = join(cliEnv().XDG_DATA_HOME!, 'heroku', 'safe-rollback', 'runs', app)
  return !existsSync(dir) ? '' : readdirSync(dir).map(f => readFileSync(join(dir, f), 'utf8')).join('\n')
}

function assertNoSecrets(uploads: Uploads, ...results: Result[]) {
  const text = results.map(r => r.stdout + r.stderr).join('\n') + runLogs(uploads.app.name)
  assert.ok(!text.includes(uploads.keys.accessKeyId), 'the access key id was printed or logged')
  assert.ok(!text.includes(uploads.keys.secretAccessKey), 'the secret access key was printed or logged')
}

async function assertAsBefore(uploads: Uploads, keys: string[]) {
  for (const key of keys) assert.deepEqual(await content(uploads, key), uploads.before.get(key), `${key} has its content of the recovery time`)
}


for (const target of ['sandbox', 'moto'] as const) {
  describe(`heroku files:recover (S3: ${target})`, function () {
    this.timeout(90_000)
    const s3 = useS3(target, 'files:recover')

    const newApp = (prefix: string) => sandbox().createApp(appName(prefix))

    it('puts back files deleted after the time (one deleted twice), exactly; leaves overwritten and new files; --dry-run changes nothing', async () => {
      const uploads = await seedUploads(s3.endpoint, newApp('files-del'))
      const name = uploads.app.name
      const start = await listing(uploads)

      const dry = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--dry-run'])
      assert.equal(dry.code, 0, dry.stderr)
      assert.deepEqual(await listing(uploads), start, '--dry-run changed the bucket')
      assert.match(dry.stdout, new RegExp(`${uploads.deleted.length} deleted since: put back`))
      assert.match(dry.stdout, /2 overwritten since: left as they are now/)
      assert.match(dry.stdout, /2 created since: reported, never deleted/)
      assert.match(dry.stdout, /Dry run: nothing was changed/)

      const json = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name, '--json'])
      assert.equal(json.code, 0, json.stderr)
      const out = JSON.parse(json.stdout)
      assert.equal(out.counts.deleted, uploads.deleted.length)
      assert.deepEqual(out.recovered, {undeleted: uploads.deleted.length, markersRemoved: uploads.deleted.length + 1, copiedBack: 0})
      assert.equal(out.run.status, 'succeeded')
      await assertAsBefore(uploads, uploads.deleted)
      for (const key of uploads.overwritten) assert.notDeepEqual(await content(uploads, key), uploads.before.get(key), 'an overwritten file was changed without --include-overwritten')
      for (const key of uploads.created) assert.ok(await content(uploads, key), 'a file created since was deleted')
      // An exact undelete: the key deleted twice has its one version again, and no marker.
      const twice = (await listing(uploads)).filter(line => line.startsWith(`${uploads.deletedTwice}|`))
      assert.equal(twice.length, 1)
      assert.match(twice[0], /\|version\|latest$/)
      // The run log holds every delete marker removed, by version id.
      const log = runLogs(name)
      const markers = start.filter(line => line.includes('|marker|')).map(line => line.split('|')[1])
      assert.equal(markers.length, uploads.deleted.length + 1)
      for (const marker of markers) assert.ok(log.includes(marker), `the run log names marker ${marker}`)
      assert.match(out.undo, new RegExp(`heroku files:recover --app ${name} --undo ${out.run.id}`))

      // The way back: --undo deletes them again (a new marker each), and a second --undo changes nothing.
      const undo = await heroku(['files:recover', '--app', name, '--undo', out.run.id, '--confirm', name])
      assert.equal(undo.code, 0, undo.stderr)
      for (const key of uploads.deleted) assert.equal(await content(uploads, key), undefined, `${key} is deleted again`)
      const again = await heroku(['files:recover', '--app', name, '--undo', out.run.id, '--confirm', name])
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stdout, /Nothing to undo/)
      assertNoSecrets(uploads, dry, json, undo, again)
    })

    it('copies back the older version of overwritten files with --include-overwritten, byte for byte', async () => {
      const uploads = await seedUploads(s3.endpoint, newApp('files-ovw'))
      const name = uploads.app.name
      // A release one minute after the time: --before-release v1 means the same time.
      const release = sandbox().state.addRelease(uploads.app, {description: 'Deploy 0badc0de'}, new Date(Date.parse(uploads.recoverTo) + 60_000).toISOString())
      const result = await heroku(['files:recover', '--app', name, '--before-release', `v${release.version}`, '--include-overwritten', '--confirm', name])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`as of ${uploads.recoverTo.replace(/[.]/g, '\\.')}: one minute before v${release.version}`))
      assert.doesNotMatch(result.stderr, /Warning/, 'the AWS SDK warned on stderr')
      assert.match(result.stdout, /Recovered \d+ files .*: \d+ undeleted exactly .*, 2 copied back/)
      await assertAsBefore(uploads, [...uploads.before.keys()])
      for (const key of uploads.created) assert.ok(await content(uploads, key), 'a file created since was deleted')
      assert.match(result.stdout, new RegExp(`To undo it: heroku files:recover --app ${name} --undo \\S+`))
      // The copies have the content of that time: a second run finds nothing to do, and says so.
      const recovered = await listing(uploads)
      const again = await heroku(['files:recover', '--app', name, '--before-release', `v${release.version}`, '--include-overwritten', '--confirm', name])
      assert.equal(again.code, 0, again.stderr)
      assert.doesNotMatch(again.stdout, /overwritten since|deleted since/)
      assert.match(again.stdout, /Nothing to recover: every file is as it was then/)
      assert.deepEqual(await listing(uploads), recovered, 'a second run changed the bucket')
      assertNoSecrets(uploads, result, again)
    })

    it('works from plain AWS_* config vars with a bucket config var (and with --bucket)', async () => {
      const uploads = await seedUploads(s3.endpoint, newApp('files-aws'), {provider: 'aws'})
      const name = uploads.app.name
      assert.equal(uploads.app.config.S3_BUCKET, uploads.bucket)
      const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`S3 bucket ${uploads.bucket} at ${s3.endpoint.url.replace(/[.]/g, '\\.')}`))
      await assertAsBefore(uploads, uploads.deleted)

      delete uploads.app.config.S3_BUCKET
      const missing = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name])
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /no config var names the bucket .*pass --bucket/)
      const flagged = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--bucket', uploads.bucket, '--prefix', 'uploads/new/', '--dry-run'])
      assert.equal(flagged.code, 0, flagged.stderr)
      assert.match(flagged.stdout, /Read 2 versions of 2 files; 0 unchanged since\.\n  2 created since/)
      assert.match(flagged.stdout, /Nothing to recover/)
      assertNoSecrets(uploads, result, missing, flagged)
    })

    it('refuses with nothing changed: versioning off, a time older than the lifecycle rules keep, a time in the future', async () => {
      const off = await seedUploads(s3.endpoint, newApp('files-off'), {versioning: false})
      const before = await listing(off)
      const refused = await heroku(['files:recover', '--app', off.app.name, '--to', off.recoverTo, '--confirm', off.app.name])
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /nothing to recover from the bucket itself.*files:protect/)
      assert.match(refused.stderr, /Nothing was changed/)
      assert.deepEqual(await listing(off), before)

      const short = await seedUploads(s3.endpoint, newApp('files-short'))
      const {PutBucketLifecycleConfigurationCommand} = await sdk()
      await short.client.send(new PutBucketLifecycleConfigurationCommand({Bucket: short.bucket, LifecycleConfiguration: {Rules: [
        {ID: 'keep-one-day', Status: 'Enabled', Filter: {Prefix: ''}, NoncurrentVersionExpiration: {NoncurrentDays: 1}},
      ]}}))
      const shortBefore = await listing(short)
      const old = await heroku(['files:recover', '--app', short.app.name, '--by', '2d', '--confirm', short.app.name, '--json'])
      assert.equal(old.code, 1)
      const oldOut = JSON.parse(old.stdout)
      assert.match(oldOut.error.message, /older than the bucket keeps old versions: lifecycle rule keep-one-day expires them after 1 day/)
      assert.equal(oldOut.error.state, 'Nothing was changed.')
      const future = await heroku(['files:recover', '--app', short.app.name, '--to', new Date(Date.now() + 3_600_000).toISOString(), '--confirm', short.app.name])
      assert.equal(future.code, 1)
      assert.match(future.stderr, /is in the future/)
      assert.deepEqual(await listing(short), shortBefore)
      assertNoSecrets(short, old, future)
    })

    it('pages ListObjectVersions with key and version-id markers: 3 at a time gives what one page gives, keys split across pages included', async () => {
      const uploads = await seedUploads(s3.endpoint, newApp('files-pages'))
      const bucket = await Bucket.open({provider: 'aws', bucket: uploads.bucket, prefix: '', region: 'us-east-1', endpoint: s3.endpoint.url, keyVars: {accessKeyId: 'A', secretAccessKey: 'S'}}, uploads.keys)
      try {
        const read = async (pageSize: number) => {
          const seen: string[] = []
          const pagesOf = new Map<string, Set<number>>()
          let pages = 0
          for await (const page of bucket.versions('uploads/', {pageSize})) {
            pages++
            assert.ok(page.length <= pageSize)
            for (const v of page) pagesOf.set(v.key, (pagesOf.get(v.key) ?? new Set()).add(pages))
            seen.push(...page.map(v => `${v.key}|${v.versionId}|${v.deleteMarker ? 'marker' : 'version'}|${v.isLatest ? 'latest' : ''}`))
          }
          return {seen, pages, split: [...pagesOf.values()].filter(p => p.size > 1).length}
        }
        const small = await read(3)
        assert.ok(small.split > 0, 'no key was split across pages')
        const one = await read(1000)
        assert.equal(one.pages, 1)
        assert.ok(small.pages >= Math.ceil(one.seen.length / 3))
        assert.deepEqual([...small.seen].sort(), [...one.seen].sort())
        assert.deepEqual([...one.seen].sort(), (await listing(uploads)).filter(line => line.startsWith('uploads/')))
      } finally {
        bucket.destroy()
      }
    })

    it('works from Cloudcube config vars: the bucket and the cube (prefix) from CLOUDCUBE_URL', async () => {
      const app = newApp('files-cube')
      const uploads = await seedUploads(s3.endpoint, app)
      // The same bucket seen as a Cloudcube cube: the app's files are under uploads/.
      for (const name of Object.keys(app.config)) delete app.config[name]
      Object.assign(app.config, bucketConfig('cloudcube', uploads.bucket, s3.endpoint.url, uploads.keys, 'uploads'))
      const result = await heroku(['files:recover', '--app', app.name, '--to', uploads.recoverTo, '--confirm', app.name])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`Cloudcube bucket ${uploads.bucket} \\(prefix uploads/\\)`))
      await assertAsBefore(uploads, uploads.deleted)
      assertNoSecrets(uploads, result)
    })

    it('--keys-from-db recovers only the missing files the database references', async () => {
      const app = newApp('files-db')
      const database = await sandbox().createPostgres(app, 'heroku-postgresql:standard-0', 'DATABASE', {release: false})
      const uploads = await seedUploads(s3.endpoint, app)
      const [wanted, other] = uploads.deleted
      await sandbox().sql(database, 'CREATE TABLE attachments (path text NOT NULL)')
      await sandbox().sql(database, 'INSERT INTO attachments VALUES ($1), ($2), ($3)', [wanted, uploads.created[0], 'uploads/never/existed.png'])
      const write = await heroku(['files:recover', '--app', app.name, '--to', uploads.recoverTo, '--keys-from-db', 'DELETE FROM attachments', '--confirm', app.name])
      assert.equal(write.code, 1)
      assert.match(write.stderr, /--keys-from-db must be a query that only reads/)
      const result = await heroku(['files:recover', '--app', app.name, '--to', uploads.recoverTo, '--keys-from-db', 'SELECT path FROM attachments', '--confirm', app.name])
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(await content(uploads, wanted), uploads.before.get(wanted))
      assert.equal(await content(uploads, other), undefined, 'a file the database does not reference was recovered')
      assert.match(result.stdout, new RegExp(`${uploads.deleted.length - 1} deleted since but not referenced by the database`))
      assert.match(result.stdout, /1 referenced by the database but with no version at that time to recover, e\.g\. uploads\/never\/existed\.png/)
      assertNoSecrets(uploads, write, result)
    })
  })
}

// Sandbox only: faults need its injection (a throttled S3, a Ctrl-C with S3 calls in flight); the demo's scenario is seeded in it.
describe('heroku files:recover (S3: sandbox only: injected faults, the demo scenario, a terminal)', function () {
  this.timeout(120_000)
  let endpoint: Endpoint
  before(() => {
    endpoint = {name: 'sandbox', url: sandbox().s3Endpoint}
  })
  afterEach(() => sandbox().clearFaults())

  // Deletes of the bucket's objects since `since` (the seeding's own deletes come before).
  const deletes = (bucket: string, since: number) => (r: RecordedRequest) => r.at >= since && r.method === 'DELETE' && r.path.startsWith(`/s3/${bucket}/`) && r.applied

  it('the demo\'s scenario (seeded hours back, without HTTP): 4 deleted (one twice) put back exactly, 2 overwritten and 2 new left', async () => {
    const uploads = seedMissingUploads(sandbox(), sandbox().createApp(appName('files-demo')))
    const name = uploads.app.name
    const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const out = JSON.parse(result.stdout)
    assert.deepEqual([out.counts.deleted, out.counts.overwrittenKept, out.counts.created, out.counts.unchanged], [4, 2, 2, 6])
    assert.deepEqual(out.recovered, {undeleted: 4, markersRemoved: 5, copiedBack: 0})
    for (const key of uploads.deleted) assert.deepEqual(sandbox().s3.current(uploads.bucket, key), uploads.before.get(key))
    for (const key of uploads.overwritten) assert.notDeepEqual(sandbox().s3.current(uploads.bucket, key), uploads.before.get(key))
    assert.equal(uploads.bucket.objects.get(uploads.deletedTwice)!.length, 1, 'both markers of the key deleted twice are gone')
  })

  it('in a terminal, asks for the app name: a wrong one changes nothing, the right one recovers', async () => {
    const uploads = seedMissingUploads(sandbox(), sandbox().createApp(appName('files-tty')))
    const name = uploads.app.name
    const wrong = await interactive(['files:recover', '--app', name, '--to', uploads.recoverTo], [{waitFor: /To proceed, type/, send: 'not-the-app\r'}])
    assert.notEqual(wrong.code, 0)
    assert.match(wrong.stdout, /This changes 4 files in bucket \S+; files created since stay\./)
    assert.match(wrong.stdout, /Confirmation "not-the-app" did not match/)
    for (const key of uploads.deleted) assert.equal(sandbox().s3.current(uploads.bucket, key), undefined)
    const right = await interactive(['files:recover', '--app', name, '--to', uploads.recoverTo], [{waitFor: /To proceed, type/, send: `${name}\r`}])
    assert.equal(right.code, 0, right.stdout)
    for (const key of uploads.deleted) assert.deepEqual(sandbox().s3.current(uploads.bucket, key), uploads.before.get(key))
  })

  it('retries S3\'s throttling (503 SlowDown) and finishes', async () => {
    const uploads = await seedUploads(endpoint, sandbox().createApp(appName('files-slow')))
    const throttled = sandbox().inject({kind: 'status', status: 503, method: 'DELETE', path: new RegExp(`^/s3/${uploads.bucket}/`), times: 3})
    const listed = sandbox().inject({kind: 'status', status: 503, method: 'GET', path: new RegExp(`^/s3/${uploads.bucket}/?$`), times: 1})
    const from = sandbox().requests.length
    const result = await heroku(['files:recover', '--app', uploads.app.name, '--to', uploads.recoverTo, '--confirm', uploads.app.name])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(throttled.hits, 3)
    assert.equal(listed.hits, 1)
    await assertAsBefore(uploads, uploads.deleted)
    const removals = sandbox().requests.slice(from).filter(r => r.applied && r.method === 'DELETE' && r.path.startsWith(`/s3/${uploads.bucket}/`))
    assert.equal(removals.length, uploads.deleted.length + 1, 'each marker removed once')
    assert.ok(removals.every(r => /versionId=/.test(r.query)))
  })

  it('a copy back whose answer is lost after S3 made it is read back, not sent again; a throttled copy is sent again once read back as not made', async () => {
    const uploads = await seedUploads(endpoint, sandbox().createApp(appName('files-copy-lost')))
    const name = uploads.app.name
    const copies = (r: RecordedRequest) => r.method === 'PUT' && r.path.startsWith(`/s3/${uploads.bucket}/`) && r.applied
    const start = await listing(uploads)
    const from = sandbox().requests.length
    const lost = sandbox().inject({kind: 'reset', when: 'after', method: 'PUT', path: new RegExp(`^/s3/${uploads.bucket}/`), nth: 1})
    const throttled = sandbox().inject({kind: 'status', status: 503, method: 'PUT', path: new RegExp(`^/s3/${uploads.bucket}/`), nth: 2})
    const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--include-overwritten', '--confirm', name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual([lost.hits, throttled.hits], [1, 1])
    const out = JSON.parse(result.stdout)
    assert.equal(out.recovered.copiedBack, uploads.overwritten.length)
    assert.equal(sandbox().requests.slice(from).filter(copies).length, uploads.overwritten.length, 'one copy per overwritten file, none twice')
    await assertAsBefore(uploads, [...uploads.deleted, ...uploads.overwritten])
    const after = await listing(uploads)
    const versionsOf = (lines: string[], key: string) => lines.filter(line => line.startsWith(`${key}|`)).length
    for (const key of uploads.overwritten) assert.equal(versionsOf(after, key), versionsOf(start, key) + 1, `${key}: exactly one copy back`)
  })

  it('an S3 error while listing refuses in one line, with nothing changed', async () => {
    const uploads = await seedUploads(endpoint, sandbox().createApp(appName('files-list403')))
    const before = await listing(uploads)
    // The third read of the bucket itself: after versioning and lifecycle, the listing.
    const denied = sandbox().inject({kind: 'status', status: 403, method: 'GET', path: new RegExp(`^/s3/${uploads.bucket}/?$`), nth: 3})
    const result = await heroku(['files:recover', '--app', uploads.app.name, '--to', uploads.recoverTo, '--confirm', uploads.app.name])
    assert.equal(result.code, 1)
    assert.equal(denied.hits, 1)
    assert.match(result.stderr, /^Error: ListObjectVersions failed \(AccessDenied, HTTP 403\).*may not read the versions of bucket/m)
    assert.match(result.stderr, /^Nothing was changed\.$/m)
    assert.deepEqual(await listing(uploads), before)
  })

  it('Ctrl-C half-way puts back what was recovered, read back from the bucket; re-running finishes', async () => {
    const uploads = await seedUploads(endpoint, sandbox().createApp(appName('files-int')), {files: 60})
    const name = uploads.app.name
    const start = await listing(uploads)
    const since = Date.now()
    sandbox().inject({kind: 'delay', ms: 250, method: 'DELETE', path: new RegExp(`^/s3/${uploads.bucket}/`), times: 10_000})
    const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name], {
      signalAfter: {when: () => sandbox().requests.filter(deletes(uploads.bucket, since)).length >= 6, signal: 'SIGINT'},
    })
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /↺ Recover files 1-20 \(undelete 20\): undone/)
    assert.doesNotMatch(result.stderr, /MaxListenersExceededWarning|memory leak/, 'the put-back warned on stderr')
    const removedFirst = sandbox().requests.filter(deletes(uploads.bucket, since)).filter(r => /versionId=/.test(r.query)).length
    assert.ok(removedFirst < uploads.deleted.length + 1, `Ctrl-C came after every marker was removed (${removedFirst})`)
    for (const key of uploads.deleted) assert.equal(await content(uploads, key), undefined, `${key} was left undeleted after Ctrl-C`)
    assert.deepEqual((await listing(uploads)).filter(l => l.includes('|version|')), start.filter(l => l.includes('|version|')), 'versions changed')

    sandbox().clearFaults()
    const rerun = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name])
    assert.equal(rerun.code, 0, rerun.stderr)
    await assertAsBefore(uploads, uploads.deleted)
    assertNoSecrets(uploads, result, rerun)
  })

  it('Ctrl-C twice leaves the put-back to recovery:resume, which finishes it from the run log', async () => {
    const uploads = await seedUploads(endpoint, sandbox().createApp(appName('files-int2')), {files: 60})
    const name = uploads.app.name
    const since = Date.now()
    sandbox().inject({kind: 'delay', ms: 600, method: 'DELETE', path: new RegExp(`^/s3/${uploads.bucket}/`), times: 10_000})
    let firstAt = 0
    const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name], {signals: [
      {when: () => {
        const hit = sandbox().requests.filter(deletes(uploads.bucket, since)).length >= 6
        if (hit) firstAt = Date.now()
        return hit
      }, signal: 'SIGINT'},
      // The put-back has begun: Ctrl-C says it puts things back first; a second one leaves.
      {when: () => firstAt > 0 && sandbox().requests.some(r => r.method === 'HEAD' && r.at > firstAt && r.path.startsWith(`/s3/${uploads.bucket}/`)), signal: 'SIGINT'},
      {when: () => true, signal: 'SIGINT'},
    ]})
    assert.match(result.stderr, /Putting things back first/)
    assert.equal(result.code, 130, result.stderr)
    const run = /heroku recovery:resume ([\w-]+)/.exec(result.stderr)?.[1]
    assert.ok(run, result.stderr)
    const finish = result.stderr.slice(result.stderr.indexOf('To finish what was left:'))
    assert.equal(finish.split(`heroku files:recover --app ${name} --undo ${run}`).length - 1, 1, `the undo command is listed once:\n${finish}`)
    assert.doesNotMatch(result.stderr, /MaxListenersExceededWarning|memory leak/, 'the put-back warned on stderr')
    sandbox().clearFaults()
    assert.ok(sandbox().requests.filter(deletes(uploads.bucket, since)).some(r => !/versionId=/.test(r.query)), 'the put-back had started')
    const resumed = await heroku(['recovery:resume', run!, '--confirm', name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stdout, new RegExp(`Run ${run} is finished`))
    for (const key of uploads.deleted) assert.equal(await content(uploads, key), undefined, `${key} is still undeleted after recovery:resume`)
    const rerun = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--confirm', name])
    assert.equal(rerun.code, 0, rerun.stderr)
    await assertAsBefore(uploads, uploads.deleted)
  })
  it('killed (SIGKILL) in the middle of the second batch: recovery:resume puts back what every batch changed, the cut one read back from the bucket', async () => {
    const app = sandbox().createApp(appName('files-kill'))
    const {bucket, recoverTo, deleted, overwritten} = seedChangedFiles(app, 600)
    const before = bucketState(bucket)
    const since = Date.now()
    const writes = () => sandbox().requests.filter(r => r.at >= since && r.applied && ['PUT', 'DELETE'].includes(r.method) && r.path.startsWith(`/s3/${bucket.name}/`)).length
    // Each write is made at once and answered 40 ms later: the kill leaves some made and never answered.
    for (const method of ['PUT', 'DELETE']) sandbox().inject({kind: 'delay', ms: 40, method, path: new RegExp(`^/s3/${bucket.name}/`), times: 100_000})
    const killed = await heroku(['files:recover', '--app', app.name, '--to', recoverTo, '--include-overwritten', '--confirm', app.name], {
      signalAfter: {when: () => writes() >= 330, signal: 'SIGKILL'},
    })
    assert.equal(killed.code, 137, killed.stderr)
    sandbox().clearFaults()
    const made = writes()
    assert.ok(made > 250 && made < 500, `the kill came in the second batch (${made} writes)`)
    assert.ok([...bucketState(bucket)].some(([key, now]) => now.content !== before.get(key)!.content), 'the killed run changed nothing')

    const log = await heroku(['recovery:log', '--app', app.name, '--json'])
    const [run] = JSON.parse(log.stdout)
    assert.equal(run.status, 'died')
    assert.deepEqual(run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['files-1:done', 'files-2:started', 'files-3:not run'])
    assert.equal(run.unfinished.length, 2, run.unfinished.join('; '))
    const resumed = await heroku(['recovery:resume', run.id, '--confirm', app.name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stdout, new RegExp(`Run ${run.id} is finished: everything due is put back`))
    assert.doesNotMatch(resumed.stderr, /MaxListenersExceededWarning|memory leak/, 'the put-back warned on stderr')
    // Every key as it was before the run: the deleted ones deleted, the overwritten ones with today's content, no copy left.
    const after = bucketState(bucket)
    for (const [key, then] of before) {
      assert.deepEqual(after.get(key)!.content, then.content, `${key} is not as it was before the run`)
      assert.deepEqual(after.get(key)!.versions, then.versions, `${key} keeps a version the run made`)
    }
    assert.equal(deleted.length + overwritten.length, 600)
    const again = await heroku(['recovery:resume', run.id, '--confirm', app.name])
    assert.match(again.stdout, /Nothing to finish/)
  })

  it('a hung S3 read refuses in one line once --wait-timeout has passed; a hung copy back and a hung marker removal are read back, never sent again', async () => {
    const uploads = await seedUploads(endpoint, sandbox().createApp(appName('files-hang')))
    const name = uploads.app.name
    const start = await listing(uploads)
    const reads = sandbox().inject({kind: 'hang', method: 'GET', path: new RegExp(`^/s3/${uploads.bucket}/?$`), times: Infinity})
    const hungRead = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--include-overwritten', '--confirm', name, '--wait-timeout', '2s'])
    assert.equal(hungRead.code, 1, hungRead.stderr)
    assert.ok(reads.hits > 0)
    assert.match(hungRead.stderr, /^Error: GetBucket\w+ failed \(no answer within 2s\)\.?$/m)
    assert.match(hungRead.stderr, /^Nothing was changed\.$/m)
    assert.doesNotMatch(hungRead.stderr, /requestTimeout|WARN/)
    reads.remove()
    assert.deepEqual(await listing(uploads), start)

    const from = sandbox().requests.length
    const copies = (r: RecordedRequest) => r.method === 'PUT' && r.path.startsWith(`/s3/${uploads.bucket}/`) && r.applied
    // Made by S3, never answered: a copy back and a marker's removal.
    const hung = sandbox().inject({kind: 'hang', method: 'PUT', path: new RegExp(`^/s3/${uploads.bucket}/`), nth: 1})
    const hungDelete = sandbox().inject({kind: 'hang', method: 'DELETE', path: new RegExp(`^/s3/${uploads.bucket}/`), nth: 1})
    const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--include-overwritten', '--confirm', name, '--wait-timeout', '2s', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual([hung.hits, hungDelete.hits], [1, 1])
    assert.equal(sandbox().requests.slice(from).filter(copies).length, uploads.overwritten.length, 'one copy per overwritten file, none twice')
    const removals = sandbox().requests.slice(from).filter(r => r.applied && r.method === 'DELETE' && r.path.startsWith(`/s3/${uploads.bucket}/`))
    assert.equal(removals.length, uploads.deleted.length + 1, 'each marker removed once')
    assert.equal(JSON.parse(result.stdout).recovered.copiedBack, uploads.overwritten.length)
    await assertAsBefore(uploads, [...uploads.deleted, ...uploads.overwritten])
  })
})

describe('heroku db:recover and files:recover', function () {
  this.timeout(90_000)

  it('db:recover ends with the files:recover command for the same time when the app keeps uploads in a bucket', async () => {
    const name = appName('files-db-recover')
    const loss = await seedDataLoss(sandbox(), name)
    const keys = newAccessKeys()
    Object.assign(loss.app.config, bucketConfig('bucketeer', `${name}-uploads`, sandbox().s3Endpoint, keys))
    const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name, '--no-maintenance'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`Uploaded files are not in the database.*\\n  heroku files:recover --app ${name} --to ${loss.beforeLoss.replace(/[.]/g, '\\.')}`))
    assert.ok(!(result.stdout + result.stderr).includes(keys.secretAccessKey))
  })
})
