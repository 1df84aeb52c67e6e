import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import pg from 'pg'
import {seedMissingUploads} from '../src/sandbox/seeds/uploads.js'
import {seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import type {Addon} from '../src/sandbox/index.js'
import type {S3Bucket} from '../src/sandbox/heroku/s3.js'
import {heroku, Result} from './support/heroku.js'
import {prismaProject, removePrismaProjects} from './support/prisma.js'
import {appName, sandbox} from './support/sandbox.js'

// Bad input, end to end through the real CLI: refused in one line, exit status 1, nothing written.

const WIDEN = '20260501000000_widen_user_name'
// The first line on stderr is the whole refusal; the next one says nothing changed.
function assertRefused(result: Result, app: string | undefined, message: RegExp) {
  assert.equal(result.code, 1, result.stdout + result.stderr)
  const [first, second] = result.stderr.split('\n')
  assert.match(first, /^Error: /, result.stderr)
  assert.match(first, message)
  assert.equal(second, 'Nothing was changed.', result.stderr)
  assert.deepEqual(sandbox().writes(app).map(r => `${r.method} ${r.path}`), [], 'nothing may be written')
}

const customers = async (database: Addon) => Number((await sandbox().sql(database, 'SELECT count(*) AS n FROM customers'))[0].n)

const appliedMigrations = async (database: Addon) =>
  (await sandbox().sql<{migration_name: string}>(database, 'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY 1')).map(r => r.migration_name)

// Every version and delete marker of a bucket, to compare before and after.
const bucketState = (bucket: S3Bucket) => JSON.stringify([...bucket.objects].map(([key, versions]) => [key, versions.map(v => `${v.versionId}:${v.deleteMarker}`)]))

// An app with a DATABASE and a bucket from which four files were deleted an hour ago.
async function appWithUploads(prefix: string) {
  const app = sandbox().createApp(appName(prefix))
  const database = await sandbox().createPostgres(app, 'heroku-postgresql:standard-0', 'DATABASE', {release: false})
  const uploads = seedMissingUploads(sandbox(), app)
  await sandbox().sql(database, 'CREATE TABLE attachments (path text NOT NULL)')
  await sandbox().sql(database, 'INSERT INTO attachments VALUES ($1)', [uploads.deleted[0]])
  return {app, name: app.name, database, uploads}
}

// Any control character but a line break, raw in what a command wrote.
const RAW_CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/

async function prismaApp() {
  const name = appName('refuse-mdown')
  const dir = prismaProject()
  const {database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
  sandbox().clearRequests()
  const down = (args: string[], env?: Record<string, string>) =>
    heroku(['migrate:down', '--app', name, '--dir', join(dir, 'prisma', 'migrations'), ...args], {cwd: dir, env})
  return {name, dir, database, down}
}

describe('bad input is refused in one line, with nothing changed', function () {
  this.timeout(120_000)

  after(removePrismaProjects)

  describe('durations have bounds', () => {
    it('migrate:down refuses --lock-timeout 0s (no timeout at all) and absurd timeouts, before anything runs', async () => {
      const {name, database, down} = await prismaApp()
      const before = await appliedMigrations(database)
      assertRefused(await down(['--lock-timeout', '0s', '--confirm', name]), name, /--lock-timeout 0s is out of range: use between 1s and 5m/)
      assertRefused(await down(['--lock-timeout', '99999999d', '--dry-run']), name, /--lock-timeout 99999999d is out of range: use between 1s and 5m/)
      assertRefused(await down(['--statement-timeout', '0s', '--dry-run']), name, /--statement-timeout 0s is out of range: use between 1s and 24h/)
      assertRefused(await down(['--max-backup-age', '1000d', '--dry-run']), name, /--max-backup-age 1000d is out of range: use between 1m and 90d/)
      assert.deepEqual(await appliedMigrations(database), before)
    })

    it('safe-rollback refuses a zero --wait-timeout and a --max-backup-age of years', async () => {
      const name = appName('refuse-rollback')
      await seedBrokenApp(sandbox(), name)
      sandbox().clearRequests()
      assertRefused(await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--wait-timeout', '0s']), name, /--wait-timeout 0s is out of range: use between 1s and 48h/)
      assertRefused(await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--max-backup-age', '9999d']), name, /--max-backup-age 9999d is out of range/)
    })

    it('db:recover refuses --by 300000000d (not "Invalid time value") and --by 0s', async () => {
      const name = appName('refuse-by')
      const {database} = await seedBrokenApp(sandbox(), name)
      sandbox().clearRequests()
      assertRefused(await heroku(['db:recover', '-a', name, '--by', '300000000d', '--confirm', name]), name, /--by 300000000d is out of range: use between 1s and 30d/)
      assertRefused(await heroku(['db:recover', '-a', name, '--by', '0s', '--confirm', name]), name, /--by 0s is out of range/)
      assertRefused(await heroku(['db:recover', '-a', name, '--backup', 'latest', '--confirm', name, '--wait-timeout', '100d']), name, /--wait-timeout 100d is out of range: use between 1s and 48h/)
      assert.equal(await customers(database!), 50)
    })
  })

  describe('times must exist', () => {
    it('db:recover refuses February 30th and 24:30 instead of rolling them over', async () => {
      const name = appName('refuse-to')
      await seedBrokenApp(sandbox(), name)
      sandbox().clearRequests()
      assertRefused(await heroku(['db:recover', '-a', name, '--to', '2026-02-30T00:00Z', '--confirm', name]), name, /--to "2026-02-30T00:00Z": 2026-02-30 does not exist/)
      assertRefused(await heroku(['db:recover', '-a', name, '--to', '2026-11-24 24:30+00', '--confirm', name]), name, /--to "2026-11-24 24:30\+00": 24:30 is not a time of day/)
    })
  })

  describe('--verify runs one read-only query', () => {
    it('refuses a DELETE ... RETURNING before anything runs: the rows stay', async () => {
      const name = appName('refuse-verify')
      const loss = await seedDataLoss(sandbox(), name)
      sandbox().clearRequests()
      const result = await heroku(['db:recover', '-a', name, '--backup', 'latest', '--confirm', name, '--verify', 'DELETE FROM customers WHERE id > 0 RETURNING true'])
      assertRefused(result, name, /--verify must be a query that only reads \(SELECT, VALUES or TABLE\), not DELETE/)
      assert.equal(await customers(loss.database), loss.rowsAfter)
    })

    it('refuses two statements, data-modifying CTEs, SELECT INTO and row locks: the table stays', async () => {
      const name = appName('refuse-verify-many')
      const loss = await seedDataLoss(sandbox(), name)
      sandbox().clearRequests()
      const recover = (sql: string) => heroku(['db:recover', '-a', name, '--backup', 'latest', '--confirm', name, '--verify', sql])
      assertRefused(await recover('SELECT 1; DROP TABLE customers'), name, /--verify must be exactly one query; it has 2 statements/)
      assertRefused(await recover('WITH gone AS (DELETE FROM customers RETURNING id) SELECT count(*) > 0 FROM gone'), name, /--verify must only read: DELETE inside the query changes data/)
      assertRefused(await recover('SELECT * INTO customers_copy FROM customers'), name, /--verify must only read: SELECT INTO creates a table/)
      assertRefused(await recover('SELECT true FROM customers FOR UPDATE'), name, /--verify must only read: FOR UPDATE\/SHARE locks rows/)
      assertRefused(await recover('SELEC 1'), name, /--verify is not valid PostgreSQL: syntax error at or near "SELEC"/)
      const [{table}] = await sandbox().sql(loss.database, "SELECT to_regclass('public.customers') AS table")
      assert.equal(table, 'customers')
      assert.equal(await customers(loss.database), loss.rowsAfter)
    })

    it('refuses a --verify that calls pg_terminate_backend, in one line before anything is written: no session is terminated', async () => {
      const name = appName('refuse-verify-kill')
      const loss = await seedDataLoss(sandbox(), name)
      const addons = sandbox().state.addonsOf(loss.app).map(a => a.id)
      // Another session on the app's database, as the app's own would be.
      const victim = new pg.Client({connectionString: loss.database._database!.url, application_name: 'app-session'})
      await victim.connect()
      try {
        const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
        sandbox().clearRequests()
        const kill = 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity'
        assertRefused(await heroku(['db:recover', '-a', name, '--backup', 'latest', '--confirm', name, '--verify', kill]), name,
          /^Error: --verify must only read: pg_terminate_backend\(\) signals other sessions or acts on the server\.$/)
        assertRefused(await heroku(['db:recover', '-a', name, '--to', loss.beforeLoss, '--confirm', name, '--verify', 'SELECT count(*) FROM customers c, LATERAL pg_catalog.pg_terminate_backend(c.id)']), name,
          /^Error: --verify must only read: pg_terminate_backend\(\) signals other sessions/)
        assertRefused(await heroku(['db:recover', '-a', name, '--by', '1h', '--dry-run', '--verify', 'SELECT pg_advisory_lock(1)']), name, /--verify must only read: pg_advisory_lock\(\) takes or releases an advisory lock/)
        assert.equal((await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pid, 'the other session still answers')
        const [{sessions}] = await sandbox().sql(loss.database, 'SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE pid = $1', [pid])
        assert.equal(sessions, 1)
      } finally {
        await victim.end()
      }
      assert.deepEqual(sandbox().state.addonsOf(loss.app).map(a => a.id), addons, 'no add-on was created')
      assert.equal(await customers(loss.database), loss.rowsAfter)
    })

    it('runs in a READ ONLY transaction: a function that deletes rows fails, and nothing is promoted', async () => {
      const name = appName('refuse-verify-fn')
      const loss = await seedDataLoss(sandbox(), name)
      await sandbox().sql(loss.database, 'CREATE FUNCTION wipe_customers() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN DELETE FROM customers; RETURN true; END $$')
      // A snapshot with the function, and a time (to the second) after it, for the point-in-time rollback.
      const snapshot = await sandbox().checkpoint(loss.database)
      const at = Math.ceil(snapshot.at / 1000) * 1000
      await new Promise(resolve => setTimeout(resolve, at - Date.now() + 50))
      const url = loss.app.config.DATABASE_URL
      const result = await heroku(['db:recover', '-a', name, '--to', new Date(at).toISOString(), '--confirm', name, '--verify', 'SELECT wipe_customers()'])
      assert.equal(result.code, 1, result.stdout + result.stderr)
      assert.match(result.stderr, /--verify failed on postgresql-[a-z]+-\d+: the query failed: cannot execute DELETE in a read-only transaction/)
      assert.equal(loss.app.config.DATABASE_URL, url)
      const recovered = sandbox().state.addonsOf(loss.app).find(a => a.id !== loss.database.id)!
      assert.equal(await customers(recovered), loss.rowsAfter)
      await sandbox().settle()
    })
  })

  describe('empty values: an unset shell variable never turns a guard off', () => {
    const empty = (flag: string) => new RegExp(`^Error: ${flag} is empty \\(an unset shell variable\\?\\): pass a value, or leave the flag out\\.$`)

    it('db:recover --verify "" is refused before any request: no add-on, no restore, the rows stay', async () => {
      const name = appName('refuse-empty-verify')
      const loss = await seedDataLoss(sandbox(), name)
      const addons = sandbox().state.addonsOf(loss.app).map(a => a.id)
      sandbox().clearRequests()
      assertRefused(await heroku(['db:recover', '-a', name, '--backup', 'latest', '--confirm', name, '--verify', '']), name, empty('--verify'))
      assertRefused(await heroku(['db:recover', '-a', name, '--to', loss.beforeLoss, '--confirm', name, '--verify', '  ']), name, empty('--verify'))
      assertRefused(await heroku(['db:recover', '-a', name, '--backup', '', '--confirm', name]), name, empty('--backup'))
      assertRefused(await heroku(['db:recover', '', '-a', name, '--backup', 'latest', '--confirm', name]), name, /^Error: The DATABASE argument is empty \(an unset shell variable\?\): pass a value, or leave it out\.$/)
      const json = await heroku(['db:recover', '-a', name, '--by', '1h', '--confirm', name, '--verify=', '--json'])
      assert.equal(json.code, 1, json.stderr)
      assert.deepEqual(JSON.parse(json.stdout).error, {message: '--verify is empty (an unset shell variable?): pass a value, or leave the flag out.', state: 'Nothing was changed.'})
      assert.deepEqual(sandbox().requests.map(r => `${r.method} ${r.path}`), [], 'no request at all')
      assert.deepEqual(sandbox().state.addonsOf(loss.app).map(a => a.id), addons, 'no add-on was created')
      assert.equal(await customers(loss.database), loss.rowsAfter)
    })

    it('files:recover --keys-from-db "" is refused before any request: the bucket stays as it was', async () => {
      const {name, uploads} = await appWithUploads('refuse-empty-keys')
      const before = bucketState(uploads.bucket)
      sandbox().clearRequests()
      const recover = (...args: string[]) => heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, ...args])
      assertRefused(await recover('--keys-from-db', '', '--confirm', name), name, empty('--keys-from-db'))
      assertRefused(await recover('--keys-from-db', ' \t', '--confirm', name), name, empty('--keys-from-db'))
      assertRefused(await recover('--keys-from-db=', '--dry-run'), name, empty('--keys-from-db'))
      assertRefused(await recover('--prefix', '', '--confirm', name), name, empty('--prefix'))
      const json = await recover('--keys-from-db', '', '--confirm', name, '--json')
      assert.equal(json.code, 1, json.stderr)
      assert.equal(JSON.parse(json.stdout).error.state, 'Nothing was changed.')
      assert.deepEqual(sandbox().requests.map(r => `${r.method} ${r.path}`), [], 'no request at all')
      assert.equal(bucketState(uploads.bucket), before, 'the bucket changed')
      for (const key of uploads.deleted) assert.equal(sandbox().s3.current(uploads.bucket, key), undefined, `${key} was recovered`)
    })
  })

  describe('a failure that changed nothing says so', () => {
    it('a read lost before any write (connection reset, every retry): "Nothing was changed.", in text and in --json', async () => {
      const name = appName('nothing-changed-read')
      const {app} = await seedBrokenApp(sandbox(), name)
      const reset = sandbox().inject({app: name, method: 'GET', path: `/apps/${name}/formation`, times: Infinity, kind: 'reset', when: 'before'})
      try {
        sandbox().clearRequests()
        const text = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name])
        assert.equal(text.code, 1, text.stdout + text.stderr)
        assert.deepEqual(text.stderr.trimEnd().split('\n').slice(-2), ['Error: the connection was lost before an answer', 'Nothing was changed.'])
        const json = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--json'])
        assert.equal(json.code, 1, json.stderr)
        assert.deepEqual(JSON.parse(json.stdout).error, {message: 'the connection was lost before an answer', state: 'Nothing was changed.'})
        assert.ok(reset.hits >= 8, `the read was tried again before giving up (${reset.hits} resets)`)
      } finally {
        reset.remove()
      }
      assert.deepEqual(sandbox().writes(name), [])
      assert.equal(app.releases.at(-1)!.version, 52)
    })

    it('a --keys-from-db query that fails (--dry-run --json, and in text): "Nothing was changed.", the table\'s name escaped on one line', async () => {
      const {name, uploads} = await appWithUploads('nothing-changed-sql')
      const before = bucketState(uploads.bucket)
      const table = 'gone\u001b[2J\u001b[H\nRecovered 4 files.'
      const sql = `SELECT path FROM "${table}"`
      sandbox().clearRequests()
      const json = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--keys-from-db', sql, '--dry-run', '--json'])
      assert.equal(json.code, 1, json.stderr)
      const {error} = JSON.parse(json.stdout)
      assert.equal(error.state, 'Nothing was changed.')
      assert.match(error.message, /^relation "gone\u001b\[2J\u001b\[H/)
      const text = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--keys-from-db', sql, '--confirm', name])
      assert.equal(text.code, 1, text.stderr)
      assert.deepEqual(text.stderr.trimEnd().split('\n').slice(-2), ['Error: relation "gone\\u001b[2J\\u001b[H\\nRecovered 4 files." does not exist', 'Nothing was changed.'])
      assert.doesNotMatch(text.stdout + text.stderr, RAW_CONTROL)
      assert.deepEqual(sandbox().writes(name), [])
      assert.equal(bucketState(uploads.bucket), before)
    })
  })

  describe('names reach the terminal escaped', () => {
    // Clears the screen, moves the cursor home, sets the window title, and starts a line of its own.
    const EVIL = 'Deploy\u001b[2J\u001b[H\u001b]0;pwned\u0007\r\nv50    all checks passed \u009b31m'
    const ESCAPED = 'Deploy\\u001b[2J\\u001b[H\\u001b]0;pwned\\u0007\\r\\nv50    all checks passed \\u009b31m'
    const assertEscaped = (output: string) => {
      assert.doesNotMatch(output, RAW_CONTROL, 'a control character reached the terminal raw')
      assert.ok(!output.split('\n').some(line => line.startsWith('v50    all checks passed')), 'a name started a line of its own')
    }

    it('safe-rollback: release descriptions and authors from the API', async () => {
      const name = appName('names-releases')
      const {app} = await seedBrokenApp(sandbox(), name)
      const bad = app.releases.find(r => r.version === 51)!
      bad.description = EVIL
      bad.user.email = 'ops\u001b[8m@example.com'
      sandbox().clearRequests()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
      assert.equal(result.code, 0, result.stderr)
      assertEscaped(result.stdout + result.stderr)
      const v51 = result.stdout.split('\n').find(line => line.startsWith('  v51 '))
      assert.ok(v51?.includes(ESCAPED) && v51.includes('ops\\u001b[8m@example.com'), result.stdout)
      assert.deepEqual(sandbox().writes(name), [])
    })

    it('files:recover: keys the database references', async () => {
      const {name, database, uploads} = await appWithUploads('names-keys')
      await sandbox().sql(database, 'INSERT INTO attachments VALUES ($1)', [`uploads/${EVIL}.png`])
      const result = await heroku(['files:recover', '--app', name, '--to', uploads.recoverTo, '--keys-from-db', 'SELECT path FROM attachments', '--dry-run'])
      assert.equal(result.code, 0, result.stderr)
      assertEscaped(result.stdout + result.stderr)
      assert.ok(result.stdout.includes(`1 referenced by the database but with no version at that time to recover, e.g. uploads/${ESCAPED}.png`), result.stdout)
    })
  })

  describe('names', () => {
    it('refuses an app name that is not one, in every command, before any request', async () => {
      sandbox().clearRequests()
      const bad = 'acme-shop?x=1'
      const message = /"acme-shop\?x=1" is not a Heroku app name: use lowercase letters, digits and dashes, starting with a letter \(at most 30\), or the app's id/
      assertRefused(await heroku(['safe-rollback', '--app', bad, '--dry-run']), undefined, message)
      assertRefused(await heroku(['db:recover', '--app', bad, '--by', '1h', '--dry-run']), undefined, message)
      assertRefused(await heroku(['migrate:down', '--app', bad, '--dry-run']), undefined, message)
      assert.deepEqual(sandbox().requests.map(r => r.path), [])
    })

    it('refuses a release reference that is not v50, 50 or a release id', async () => {
      const name = appName('refuse-release')
      await seedBrokenApp(sandbox(), name)
      sandbox().clearRequests()
      const message = /Release "v50\/\.\.\/51" is not a release: use v50, 50 or a release id/
      assertRefused(await heroku(['safe-rollback', 'v50/../51', '--app', name, '--dry-run']), name, message)
      assertRefused(await heroku(['db:recover', '-a', name, '--before-release', 'v50/../51', '--dry-run']), name, /--before-release "v50\/\.\.\/51" is not a release: use v50, 50 or a release id/)
      assert.deepEqual(sandbox().requests.filter(r => r.path.includes('/releases/')).map(r => r.path), [])
    })
  })

  describe('migrate:down', () => {
    it('refuses when the newest applied migration is missing from the checkout, naming it', async () => {
      const {name, dir, database, down} = await prismaApp()
      rmSync(join(dir, 'prisma', 'migrations', WIDEN), {recursive: true})
      assertRefused(await down(['--steps', '1', '--confirm', name]), name, new RegExp(`${WIDEN} is applied in the database but not in the local migrations folder`))
      assert.equal((await appliedMigrations(database)).length, 5)
    })

    it('says an unknown app does not exist or is not yours', async () => {
      const {dir} = await prismaApp()
      const result = await heroku(['migrate:down', '--app', 'no-such-app', '--dry-run'], {cwd: dir})
      assertRefused(result, undefined, /App no-such-app does not exist or you do not have access to it/)
    })

    it('refuses a shadow database password on the command line', async () => {
      const {name, database, down} = await prismaApp()
      const result = await down(['--shadow-database-url', 'postgres://shadow:sh4dow-secret@127.0.0.1:5432/shadow', '--confirm', name])
      assertRefused(result, name, /--shadow-database-url has a password: it would show in `ps` and in DEBUG output; set SHADOW_DATABASE_URL instead/)
      assert.equal((await appliedMigrations(database)).length, 5)
    })

    it('reads the shadow database from SHADOW_DATABASE_URL, and never prints its password, also with DEBUG=*', async () => {
      const {name, dir, down} = await prismaApp()
      const password = `pw${Date.now()}secret`
      const shadowUrl = `postgres://shadow:${password}@127.0.0.1:5432/shadow`
      rmSync(join(dir, 'prisma', 'migrations', WIDEN, 'down.sql'))
      // A stand-in for the project's Prisma 6 CLI: it answers only when given the shadow database.
      mkdirSync(join(dir, 'node_modules', '.bin'), {recursive: true})
      mkdirSync(join(dir, 'node_modules', 'prisma'))
      writeFileSync(join(dir, 'node_modules', 'prisma', 'package.json'), '{"name": "prisma", "version": "6.19.0"}\n')
      writeFileSync(join(dir, 'node_modules', '.bin', 'prisma'), `#!/usr/bin/env node
const args = process.argv.slice(2)
if (args[args.indexOf('--shadow-database-url') + 1] !== ${JSON.stringify(shadowUrl)}) {
  console.error('no shadow database')
  process.exit(1)
}
console.log('ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(50);')
`)
      chmodSync(join(dir, 'node_modules', '.bin', 'prisma'), 0o755)
      const result = await down(['--dry-run'], {SHADOW_DATABASE_URL: shadowUrl, DEBUG: '*'})
      assert.equal(result.code, 0, result.stderr.slice(-3000))
      assert.match(result.stdout, /generated with: npx prisma migrate diff .* --shadow-database-url \[REDACTED\]/)
      assert.ok(!(result.stdout + result.stderr).includes(password), 'the shadow database password was printed')
      assert.deepEqual(sandbox().writes(name), [])
    })
  })
})
