import assert from 'node:assert/strict'
import type {App} from '../src/sandbox/index.js'
import {configFor, type Endpoint, s3Client, sdk, useS3} from './support/files.js'
import {newAccessKeys} from '../src/sandbox/heroku/storage-addons.js'
import {heroku, Result} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// `heroku files:protect` through the real CLI, against the sandbox's S3 and moto_server: the bucket's
// settings are read back after each run.

let buckets = 0

async function unprotected(endpoint: Endpoint, app: App, rules = true) {
  const {CreateBucketCommand, PutBucketLifecycleConfigurationCommand} = await sdk()
  const keys = newAccessKeys()
  const client = await s3Client(endpoint.url, keys)
  const bucket = `protect-${process.pid}-${++buckets}`
  await client.send(new CreateBucketCommand({Bucket: bucket}))
  if (rules) {
    await client.send(new PutBucketLifecycleConfigurationCommand({Bucket: bucket, LifecycleConfiguration: {Rules: [
      {ID: 'expire-tmp', Status: 'Enabled', Filter: {Prefix: 'tmp/'}, Expiration: {Days: 7}},
    ]}}))
  }
  Object.assign(app.config, configFor('bucketeer', bucket, endpoint.url, keys))
  return {client, bucket, keys}
}

async function settings(client: Awaited<ReturnType<typeof s3Client>>, bucket: string) {
  const {GetBucketVersioningCommand, GetBucketLifecycleConfigurationCommand} = await sdk()
  const versioning = (await client.send(new GetBucketVersioningCommand({Bucket: bucket}))).Status ?? 'off'
  const rules = await client.send(new GetBucketLifecycleConfigurationCommand({Bucket: bucket})).then(r => r.Rules ?? [], () => [])
  return {versioning, rules}
}

function assertNoSecrets(keys: {accessKeyId: string, secretAccessKey: string}, ...results: Result[]) {
  for (const result of results) {
    const text = result.stdout + result.stderr
    assert.ok(!text.includes(keys.accessKeyId) && !text.includes(keys.secretAccessKey), 'a credential was printed')
  }
}

for (const target of ['sandbox', 'moto'] as const) {
  describe(`heroku files:protect (S3: ${target})`, function () {
    this.timeout(60_000)
    const s3 = useS3(target, 'files:protect')

    it('reports versioning off and how far back files can be recovered, changing nothing', async () => {
      const app = sandbox().createApp(appName('protect-report'))
      const {client, bucket, keys} = await unprotected(s3.endpoint, app)
      const result = await heroku(['files:protect', '--app', app.name])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`Files of ${app.name}: Bucketeer bucket ${bucket}`))
      assert.match(result.stdout, /Versioning: off\./)
      assert.match(result.stdout, /Lifecycle rules: expire-tmp \(Enabled\)\./)
      assert.match(result.stdout, /So: files deleted or overwritten now cannot be recovered/)
      assert.match(result.stdout, /1\. Turn versioning on/)
      assert.match(result.stdout, new RegExp(`Nothing was changed\\. To protect the files: heroku files:protect --app ${app.name} --keep-versions 30d --apply`))
      const now = await settings(client, bucket)
      assert.equal(now.versioning, 'off')
      assert.deepEqual(now.rules.map(r => r.ID), ['expire-tmp'])

      const unattended = await heroku(['files:protect', '--app', app.name, '--apply'])
      assert.equal(unattended.code, 1)
      assert.match(unattended.stderr, /needs a terminal; pass --confirm/)
      assert.equal((await settings(client, bucket)).versioning, 'off')
      assertNoSecrets(keys, result, unattended)
    })

    it('--apply turns versioning on and adds the rule for old versions, keeping the other rules; a second run changes nothing', async () => {
      const app = sandbox().createApp(appName('protect-apply'))
      const {client, bucket, keys} = await unprotected(s3.endpoint, app)
      const result = await heroku(['files:protect', '--app', app.name, '--keep-versions', '14d', '--apply', '--confirm', app.name, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const out = JSON.parse(result.stdout)
      assert.equal(out.applied, true)
      const after = await settings(client, bucket)
      assert.equal(after.versioning, 'Enabled')
      const ids = after.rules.map(r => r.ID).sort()
      assert.deepEqual(ids, ['expire-tmp', 'heroku-files-protect'])
      const ours = after.rules.find(r => r.ID === 'heroku-files-protect')!
      assert.equal(ours.NoncurrentVersionExpiration?.NoncurrentDays, 14)
      const kept = after.rules.find(r => r.ID === 'expire-tmp')!
      assert.equal(kept.Expiration?.Days, 7)
      assert.equal(kept.Filter?.Prefix, 'tmp/')

      const again = await heroku(['files:protect', '--app', app.name, '--keep-versions', '14d', '--apply', '--confirm', app.name])
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stdout, /So: files can be recovered back to 14 days \(lifecycle rule heroku-files-protect\)/)
      assert.match(again.stdout, /Nothing to change/)
      assertNoSecrets(keys, result, again)
    })
  })
}

describe('heroku files:protect (S3: sandbox, credentials that may not change the bucket)', function () {
  this.timeout(60_000)

  it('says plainly that the credentials may not change the bucket and what to ask the provider; nothing changes', async () => {
    const app = sandbox().createApp(appName('protect-denied'))
    const {client, bucket, keys} = await unprotected({name: 'sandbox', url: sandbox().s3Endpoint}, app, false)
    sandbox().s3.bucket(bucket).readOnlyKeys.add(keys.accessKeyId)
    const result = await heroku(['files:protect', '--app', app.name, '--apply', '--confirm', app.name])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /The credentials in BUCKETEER_AWS_ACCESS_KEY_ID are not allowed to turn versioning on for bucket \S+\. Ask Bucketeer support to turn on versioning/)
    assert.match(result.stderr, /✗ Turn versioning on for bucket \S+: failed; nothing was changed/)
    assert.deepEqual(await settings(client, bucket), {versioning: 'off', rules: []})
    assertNoSecrets(keys, result)
  })

  it('a 403 on reading the bucket\'s settings names the read permissions missing, never the write ones', async () => {
    const app = sandbox().createApp(appName('protect-read403'))
    const {client, bucket, keys} = await unprotected({name: 'sandbox', url: sandbox().s3Endpoint}, app)
    const denied = sandbox().inject({kind: 'status', status: 403, method: 'GET', path: new RegExp(`^/s3/${bucket}/?$`), times: Infinity})
    try {
      const report = await heroku(['files:protect', '--app', app.name])
      const recover = await heroku(['files:recover', '--app', app.name, '--by', '1h', '--confirm', app.name])
      assert.ok(denied.hits >= 4, `${denied.hits} reads denied`)
      for (const result of [report, recover]) {
        assert.equal(result.code, 1)
        assert.match(result.stderr, new RegExp(`^Error: The credentials in BUCKETEER_AWS_ACCESS_KEY_ID may not read the settings of bucket ${bucket}: ask Bucketeer support for s3:GetBucketVersioning and s3:GetLifecycleConfiguration\\.$`, 'm'))
        assert.doesNotMatch(result.stderr, /s3:Put|turn on versioning/)
        assert.match(result.stderr, /^Nothing was changed\.$/m)
      }
      assertNoSecrets(keys, report, recover)
    } finally {
      denied.remove()
    }
    assert.deepEqual(await settings(client, bucket), {versioning: 'off', rules: [{ID: 'expire-tmp', Status: 'Enabled', Filter: {Prefix: 'tmp/'}, Expiration: {Days: 7}}]})
  })
})

describe('heroku files:protect --apply: a fault and Ctrl-C at the lifecycle step (S3: sandbox)', function () {
  this.timeout(90_000)
  afterEach(() => sandbox().clearFaults())

  // The bucket's own path: PUT ?versioning is the first write to it, PUT ?lifecycle the second.
  const lifecycleWrites = (bucket: string) => ({method: 'PUT', path: new RegExp(`^/s3/${bucket}/?$`), nth: 2, times: Infinity})

  it('a lifecycle write that fails for good is read back, sent once more, then reported: versioning stays on, with its undo; the rules are as before', async () => {
    const app = sandbox().createApp(appName('protect-fault'))
    const {client, bucket} = await unprotected({name: 'sandbox', url: sandbox().s3Endpoint}, app)
    const failing = sandbox().inject({kind: 'status', status: 500, ...lifecycleWrites(bucket)})
    const result = await heroku(['files:protect', '--app', app.name, '--apply', '--confirm', app.name, '--json'])
    assert.equal(result.code, 1, result.stderr)
    assert.ok(failing.hits >= 2, `${failing.hits} lifecycle writes`)
    // Read back after the failed write (the runner's rule for a write that may have been applied), not only before it.
    const onBucket = sandbox().requests.filter(r => new RegExp(`^/s3/${bucket}/?$`).test(r.path))
    const firstFailed = onBucket.findIndex(r => r.method === 'PUT' && r.fault !== undefined)
    assert.ok(firstFailed > 0 && onBucket.slice(firstFailed).some(r => r.method === 'GET' && /lifecycle/.test(r.query)), 'the rules were read back')
    const {run, error} = JSON.parse(result.stdout)
    assert.deepEqual(run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['versioning-on:done', 'lifecycle-rule:failed'])
    assert.equal(run.steps[1].change, 'not made')
    assert.deepEqual(run.undo, [`aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Suspended`])
    assert.match(error.message, /lifecycle rule heroku-files-protect.* failed: PutBucketLifecycleConfiguration failed \(\w+, HTTP 500\)/)
    const after = await settings(client, bucket)
    assert.equal(after.versioning, 'Enabled')
    assert.deepEqual(after.rules.map(r => r.ID), ['expire-tmp'])
  })

  it('Ctrl-C while the lifecycle write hangs: read back as not made, exit 130, versioning on with its undo named', async () => {
    const app = sandbox().createApp(appName('protect-int'))
    const {client, bucket} = await unprotected({name: 'sandbox', url: sandbox().s3Endpoint}, app)
    const hanging = sandbox().inject({kind: 'hang', when: 'before', ...lifecycleWrites(bucket)})
    const result = await heroku(['files:protect', '--app', app.name, '--apply', '--confirm', app.name], {signalAfter: {when: () => hanging.hits > 0, signal: 'SIGINT'}})
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /✗ Add lifecycle rule heroku-files-protect.*: interrupted; nothing was changed/)
    assert.match(result.stderr, new RegExp(`To undo what was done: \`aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Suspended\``))
    const after = await settings(client, bucket)
    assert.equal(after.versioning, 'Enabled')
    assert.deepEqual(after.rules.map(r => r.ID), ['expire-tmp'])
  })
})

describe('heroku files:* bad input', function () {
  this.timeout(60_000)

  it('refuses in one line before reading anything: --keep-versions not in whole days, files:recover without a time, no bucket', async () => {
    const app = sandbox().createApp(appName('files-input'))
    sandbox().clearRequests()
    const days = await heroku(['files:protect', '--app', app.name, '--keep-versions', '36h', '--apply', '--confirm', app.name])
    assert.equal(days.code, 1)
    assert.match(days.stderr, /^Error: --keep-versions 36h must be whole days between 1d and 3650d/m)
    const noTime = await heroku(['files:recover', '--app', app.name, '--confirm', app.name])
    assert.equal(noTime.code, 1)
    assert.match(noTime.stderr, /^Error: Say when to go back to: --to TIME, --by DURATION or --before-release vN\.$/m)
    assert.equal(sandbox().requests.filter(r => r.path.startsWith('/s3/') || r.path.includes(app.name)).length, 0, 'something was read or sent')
    const none = await heroku(['files:recover', '--app', app.name, '--by', '1h', '--confirm', app.name])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^Error: No S3 bucket in the app's config vars/m)
    assert.match(none.stderr, /^Nothing was changed\.$/m)
  })
})
